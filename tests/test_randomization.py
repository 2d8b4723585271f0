"""Domain randomization: per-env draws at reset within the preset's ranges, delayed actions,
sensor noise on measured terms only, pushes on the base; the plain env stays exact."""

import numpy as np
import pytest
from conftest import make_vec

from skillgym.core.randomization import PRESETS, Randomization

WALK = "skillgym/Tall19-Walk-v0"


def test_each_env_draws_its_own_model_within_the_preset_at_its_reset():
    env = make_vec(WALK, num_envs=4, randomize="default")
    env.reset(seed=0)
    batch, model, spec = env.physics.batch, env.model, PRESETS["default"]
    mass = batch.expanded("body_mass")
    ratio = mass[:, 1:] / model.body_mass[1:]
    assert (ratio >= spec.mass[0] - 1e-9).all() and (ratio <= spec.mass[1] + 1e-9).all()
    assert not np.allclose(mass[0], mass[1])
    kp = batch.expanded("actuator_gainprm")[:, :, 0] / model.actuator_gainprm[:, 0]
    low, high = spec.kp[0] * spec.strength[0], spec.kp[1] * spec.strength[1]
    assert (kp >= low - 1e-9).all() and (kp <= high + 1e-9).all()
    friction = batch.expanded("geom_friction")[:, 0, 0] / model.geom_friction[0, 0]
    assert ((friction >= spec.friction[0]) & (friction <= spec.friction[1])).all()
    before = mass.copy()
    env.reset(options={"reset_mask": np.array([True, False, False, False])})
    assert not np.allclose(mass[0], before[0]) and np.array_equal(mass[1:], before[1:])


def test_the_plain_env_keeps_one_model_and_steps_as_before():
    plain = make_vec(WALK, num_envs=2)
    plain.reset(seed=0)
    assert plain.physics.batch.expanded("body_mass") is None
    zero = Randomization()
    same = make_vec(WALK, num_envs=2, randomize=zero)
    actions = np.random.default_rng(0).uniform(-0.5, 0.5, (5, 2, 19))
    first, second = plain.reset(seed=1)[0], same.reset(seed=1)[0]
    for action in actions:
        first, *_ = plain.step(action)
        second, *_ = same.step(action)
    np.testing.assert_array_equal(first, second)


def test_an_action_takes_effect_after_the_env_s_latency():
    spec = Randomization(latency=(2, 2))
    env = make_vec(WALK, num_envs=1, randomize=spec)
    env.reset(seed=0)
    kick = np.full((1, 19), 0.5)
    ctrl = []
    for action in (kick, np.zeros((1, 19)), np.zeros((1, 19)), np.zeros((1, 19))):
        env.step(action)
        ctrl.append(env.physics.batch.bind("ctrl")[0].copy())
    default = env.task.default_ctrl
    np.testing.assert_allclose(ctrl[0], default)
    np.testing.assert_allclose(ctrl[1], default)
    np.testing.assert_allclose(ctrl[2], default + 0.5 * env.task.action_scale)
    np.testing.assert_allclose(ctrl[3], default)


def test_sensor_noise_perturbs_measured_terms_and_leaves_the_goal_alone():
    spec = Randomization(obs_noise=1.0)
    env = make_vec(WALK, num_envs=256, randomize=spec)
    obs, _ = env.reset(seed=0)
    exact = np.asarray(env.task.observe(env.snapshot(), env.episode_state))
    layout = env.observation_layout
    noise = obs - exact
    start, size = layout["goal"]
    assert np.abs(noise[:, start : start + size]).max() < 1e-6
    start, size = layout["joint_vel"]
    scale = env.task.observation_sources()["joint_vel"][1]
    spread = np.abs(noise[:, start : start + size]).max()
    assert 0.5 * 1.5 * scale < spread <= 1.5 * scale + 1e-6


def test_pushes_change_the_base_s_planar_velocity():
    spec = Randomization(push_interval=0.02, push_velocity=1.0)  # every step, in effect
    pushed = make_vec(WALK, num_envs=8, randomize=spec)
    pushed.reset(seed=0)
    pushed.step(np.zeros((8, 19)))
    speed = np.linalg.norm(pushed.snapshot().qvel[:, :2], axis=-1)
    assert speed.max() > 0.2


def test_a_fraction_of_a_randomization_narrows_it_towards_none():
    spec = PRESETS["default"]
    assert spec.scaled(1.0) == spec
    assert not spec.scaled(0.0).varies_model and spec.scaled(0.0).latency == (0, 0)
    half = spec.scaled(0.5)
    assert half.mass == pytest.approx((0.95, 1.05)) and half.latency == (0, 1)
    assert half.obs_noise == 0.5 and half.push_velocity == 0.25
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        spec.scaled(1.5)


def test_an_env_randomizes_the_fraction_it_is_set_to_from_each_env_s_next_reset():
    env = make_vec(WALK, num_envs=4, randomize="default")
    env.set_randomization_fraction(0.0)
    obs, _ = env.reset(seed=0)
    mass = env.physics.batch.expanded("body_mass")
    np.testing.assert_allclose(mass, np.broadcast_to(env.model.body_mass, mass.shape))
    np.testing.assert_allclose(obs, env.task.observe(env.snapshot(), env.episode_state), atol=1e-6)
    env.set_randomization_fraction(1.0)
    env.reset(seed=1)
    ratio = env.physics.batch.expanded("body_mass")[:, 1:] / env.model.body_mass[1:]
    assert not np.allclose(ratio, 1.0)
    with pytest.raises(ValueError, match="without randomize"):
        make_vec(WALK, num_envs=1).set_randomization_fraction(0.5)


def test_mjx_says_it_does_not_randomize():
    pytest.importorskip("jax")
    with pytest.raises(ValueError, match="CPU backend"):
        make_vec(WALK, num_envs=1, backend="mjx", randomize="default")


def test_an_unknown_preset_is_a_clear_error():
    with pytest.raises(ValueError, match="presets: default, strong"):
        make_vec(WALK, num_envs=1, randomize="wild")


def test_a_training_run_grows_its_randomization_over_the_ramp(tmp_path):
    from conftest import tiny_train_config

    from skillgym.training.ppo import scalar_series, train

    with pytest.raises(ValueError, match="--randomize-ramp"):
        tiny_train_config(tmp_path / "none", randomize_ramp=1000)
    config = tiny_train_config(tmp_path / "run", randomize="default", randomize_ramp=2048)
    meta = train(config)
    assert meta.hyperparameters["randomize_ramp"] == 2048
    series = scalar_series(tmp_path / "run", ("randomization/fraction",))
    fractions = [value for _, value in series["randomization/fraction"]]
    assert fractions[0] == 0.0 and 0.0 < fractions[-1] < 1.0
    assert fractions == sorted(fractions)
