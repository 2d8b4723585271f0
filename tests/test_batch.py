"""The batched CPU backend: determinism, bad input, and faults confined to one env."""

import numpy as np
import pytest
from conftest import make_vec, rollout

from skillgym.policies.scripted import ArmReachIK


def test_same_seed_and_actions_give_identical_results_whatever_the_thread_count(rng):
    actions = np.clip(rng.normal(0, 0.5, (60, 6, 19)), -1, 1)
    one = rollout(make_vec("skillgym/Tall19-Walk-v0", 6, num_threads=1), actions)
    two = rollout(make_vec("skillgym/Tall19-Walk-v0", 6, num_threads=2), actions)
    np.testing.assert_array_equal(one[0], two[0])
    np.testing.assert_array_equal(one[1], two[1])


def test_batched_env_matches_the_single_env_step_for_step(rng):
    import gymnasium as gym

    actions = np.clip(rng.normal(0, 0.3, (40, 1, 8)), -1, 1)
    batched = rollout(make_vec("skillgym/Arm7-Push-v0", 1), actions)
    single = gym.make("skillgym/Arm7-Push-v0")
    obs, _ = single.reset(seed=0)
    np.testing.assert_array_equal(obs, batched[0][0, 0])
    for t, action in enumerate(actions):
        obs, reward, *_ = single.step(action[0])
        np.testing.assert_array_equal(obs, batched[0][t + 1, 0])
        assert reward == batched[1][t, 0]


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_action_raises_naming_the_env_and_shape(bad):
    env = make_vec("skillgym/Tall19-Squat-v0", 2)
    env.reset(seed=0)
    action = np.zeros((2, 19))
    action[1, 3] = bad
    with pytest.raises(ValueError, match=r"Tall19-Squat.*\(2, 19\)"):
        env.step(action)
    env.step(np.zeros((2, 19)))  # the env is still usable


def test_non_finite_action_to_a_single_env_raises_naming_its_shape():
    import gymnasium as gym

    single = gym.make("skillgym/Arm7-Reach-v0")
    single.reset(seed=0)
    with pytest.raises(ValueError, match=r"Arm7-Reach-v0: action contains NaN or inf.*\(8,\)"):
        single.step(np.full(8, np.nan))


def test_wrong_action_shape_raises_for_single_and_batched_envs():
    import gymnasium as gym

    env = make_vec("skillgym/Arm7-Reach-v0", 2)
    env.reset(seed=0)
    with pytest.raises(ValueError, match=r"expected \(2, 8\)"):
        env.step(np.zeros((2, 7)))
    single = gym.make("skillgym/Arm7-Reach-v0")
    single.reset(seed=0)
    with pytest.raises(ValueError, match=r"Arm7-Reach.*expected \(8,\)"):
        single.step(np.zeros(9))


def test_actions_outside_the_box_are_clipped(rng):
    actions = rng.uniform(-1, 1, (10, 2, 8))
    inside = rollout(make_vec("skillgym/Arm7-Reach-v0", 2), actions)
    outside = rollout(make_vec("skillgym/Arm7-Reach-v0", 2), actions * 3.0)
    clipped = rollout(make_vec("skillgym/Arm7-Reach-v0", 2), np.clip(actions * 3.0, -1, 1))
    np.testing.assert_array_equal(outside[0], clipped[0])
    assert not np.array_equal(inside[0], outside[0])


def test_a_blow_up_resets_only_its_env_and_is_reported_as_truncation(rng):
    actions = np.clip(rng.normal(0, 0.2, (20, 4, 19)), -1, 1)
    clean = make_vec("skillgym/Tall19-Walk-v0", 4, autoreset_mode="same_step")
    faulty = make_vec("skillgym/Tall19-Walk-v0", 4, autoreset_mode="same_step")
    for env in (clean, faulty):
        env.reset(seed=3)
    returns = np.zeros(4)
    for t, action in enumerate(actions):
        if t == 10:
            faulty.physics.batch.bind("qvel")[2] = 1e12  # a numerical blow-up in env 2
        obs_c, rew_c, term_c, trunc_c, _ = clean.step(action)
        obs_f, rew_f, term_f, trunc_f, info = faulty.step(action)
        if t < 10:
            returns += rew_f
        others = [0, 1, 3]
        np.testing.assert_array_equal(obs_c[others], obs_f[others])
        np.testing.assert_array_equal(rew_c[others], rew_f[others])
        if t == 10:
            assert info["physics_error"].tolist() == [False, False, True, False]
            assert trunc_f[2] and not term_f[2]
            assert rew_f[2] == 0.0 and not info["success"][2]  # nothing earned from a blow-up
            episode = info["final_info"]["episode_summary"]
            assert episode["l"][2] == 10 and episode["r"][2] == pytest.approx(returns[2])
            assert info["_final_obs"][2]
            assert np.isfinite(obs_f).all()
    assert np.isfinite(faulty.physics.snapshot().qpos).all()


def test_nan_state_in_one_env_is_caught_too():
    env = make_vec("skillgym/Arm7-Lift-v0", 3)
    env.reset(seed=0)
    env.physics.batch.bind("qpos")[0, 3] = np.nan
    _, _, _, truncated, info = env.step(np.zeros((3, 8)))
    assert info["physics_error"].tolist() == [True, False, False]
    assert truncated[0]
    assert np.isfinite(env.physics.snapshot().qpos).all()


def test_an_episode_that_blows_up_after_its_success_is_no_success():
    env = make_vec("skillgym/Arm7-Reach-v0", 2, autoreset_mode="same_step")
    controller = ArmReachIK(env)
    obs, _ = env.reset(seed=0)
    while not env.episode_state.success_once.all():  # inverse kinematics reaches within 1 s
        obs, *_ = env.step(controller(obs))
    env.physics.batch.bind("qvel")[0] = 1e12
    _, _, _, truncated, info = env.step(controller(obs))
    assert info["physics_error"].tolist() == [True, False] and truncated[0]
    assert info["final_info"]["episode_summary"]["success"][0] == np.False_
