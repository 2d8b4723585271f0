"""The public interface follows Gymnasium: registration, spaces, check_env, vector envs."""

import gymnasium as gym
import numpy as np
import pytest
from conftest import ENV_IDS, make_vec
from gymnasium.utils.env_checker import check_env
from gymnasium.utils.passive_env_checker import env_render_passive_checker

import skillgym
from skillgym.envs.vector import finished_episodes


def test_every_robot_skill_pair_is_registered_under_the_namespace():
    expected = {
        f"skillgym/{robot}-{skill}-v0"
        for robot in ("Tall19", "Compact21", "Tall21")
        for skill in ("Walk", "Reach", "Squat", "Step")
    } | {f"skillgym/Arm7-{skill}-v0" for skill in ("Reach", "Push", "Lift")}
    assert set(ENV_IDS[: len(expected)]) == expected  # skills first, benchmark tasks after
    assert expected <= set(gym.registry)


@pytest.mark.parametrize("env_id", ENV_IDS)
@pytest.mark.parametrize("obs_mode", ["flat", "dict"])
def test_check_env_passes(env_id, obs_mode):
    env = gym.make(env_id, obs_mode=obs_mode)
    check_env(env.unwrapped, skip_render_check=True)
    env.close()


def test_rgb_array_rendering_passes_the_checker():
    env = gym.make("skillgym/Tall19-Reach-v0", render_mode="rgb_array", width=160, height=120)
    env.reset(seed=0)
    env_render_passive_checker(env)
    frame = env.render()
    assert frame.shape == (120, 160, 3) and frame.dtype == np.uint8
    assert frame.std() > 10  # a scene, not a blank image
    env.close()


@pytest.mark.parametrize("env_id", ["skillgym/Tall19-Walk-v0", "skillgym/Arm7-Lift-v0"])
def test_single_and_batched_envs_expose_model_frame_skip_and_dt(env_id):
    env = gym.make(env_id)
    vec = make_vec(env_id, num_envs=3)
    for e in (env.unwrapped, vec):
        assert e.model.nu == e.action_space.shape[-1]
        assert e.dt == pytest.approx(e.model.opt.timestep * e.frame_skip)
        assert e.dt == pytest.approx(0.02)  # 50 Hz control
    assert vec.observation_space.shape == (3, *env.observation_space.shape)
    assert vec.metadata["autoreset_mode"] == gym.vector.AutoresetMode.NEXT_STEP  # the default
    assert env.metadata["render_fps"] == vec.metadata["render_fps"] == 50  # videos play in time


def test_threads_for_a_single_env_are_a_clear_error():
    with pytest.raises(TypeError, match="num_threads is for gym.make_vec"):
        gym.make("skillgym/Arm7-Reach-v0", num_threads=2)


def test_dict_observations_carry_goal_and_privileged_terms():
    env = make_vec("skillgym/Tall19-Squat-v0", num_envs=2, obs_mode="dict")
    obs, _ = env.reset(seed=0)
    assert set(obs) == {"observation", "goal", "critic"}
    assert obs["goal"].shape == (2, 1)
    flat = make_vec("skillgym/Tall19-Squat-v0", num_envs=2)
    flat_obs, _ = flat.reset(seed=0)
    np.testing.assert_array_equal(obs["observation"], flat_obs)


def test_batched_env_auto_resets_in_the_same_step_and_reports_the_final_episode():
    env = make_vec("skillgym/Arm7-Reach-v0", num_envs=2, autoreset_mode="same_step")
    env.reset(seed=0)
    for _ in range(env.task.episode_steps - 1):
        _, _, terminated, truncated, info = env.step(np.zeros(env.action_space.shape))
        assert not (terminated | truncated).any()
    obs, _, _, truncated, info = env.step(np.zeros(env.action_space.shape))
    assert truncated.all()
    assert info["_final_obs"].all() and info["final_obs"][0].shape == obs[0].shape
    assert (info["final_info"]["episode_summary"]["l"] == env.task.episode_steps).all()
    assert (env.episode_state.steps == 0).all()  # the new episodes have begun


def test_reset_with_the_same_seed_gives_the_same_goals():
    env = make_vec("skillgym/Tall19-Reach-v0", num_envs=4)
    first, _ = env.reset(seed=7)
    second, _ = env.reset(seed=7)
    third, _ = env.reset(seed=8)
    np.testing.assert_array_equal(first, second)
    assert not np.array_equal(first, third)


def test_package_exports_helpers_for_env_ids():
    assert skillgym.env_id("tall19", "Walk") == "skillgym/Tall19-Walk-v0"
    assert skillgym.make_task("arm7", "Lift").robot.name == "arm7"


def test_the_final_episode_splits_its_return_into_the_weighted_reward_terms(rng):
    env = make_vec("skillgym/Tall19-Squat-v0", num_envs=8)
    env.reset(seed=0)
    while True:  # random actions topple the humanoid within a few seconds
        _, _, _, _, info = env.step(rng.uniform(-1, 1, env.action_space.shape))
        finished, ended = finished_episodes(info, env.num_envs)
        if ended.any():
            break
    episode = {k: np.asarray(v)[ended] for k, v in finished.items()}
    terms = {k.removeprefix("reward/"): v for k, v in episode.items() if k.startswith("reward/")}
    assert list(terms) == list(env.task.config.reward_weights)
    np.testing.assert_allclose(sum(terms.values()), episode["r"], rtol=1e-6)
    np.testing.assert_allclose(terms["alive"], episode["l"] * env.task.dt)  # 1 per second
    np.testing.assert_allclose(terms["fall"], -100.0 * env.task.dt)  # paid once, at the fall
    assert (terms["posture"] == 0.0).all()  # weighted 0 for Squat


def test_rendering_larger_than_the_default_framebuffer_gives_that_size():
    env = gym.make("skillgym/Arm7-Reach-v0", render_mode="rgb_array", width=800, height=600)
    env.reset(seed=0)
    assert env.render().shape == (600, 800, 3)
    env.close()
