"""The wrapper chains and scripts RL researchers already use run whole episodes, unchanged.

Episodes are shortened to a few control steps (a task config override) so that every
registered env runs whole episodes, ended by a time limit or a fall, in each client pipeline.
"""

import dataclasses

import gymnasium as gym
import numpy as np
import pytest
from conftest import ENV_IDS, make_vec
from gymnasium.vector import AutoresetMode

import skillgym

SHORT_SECONDS = 0.12
EPISODE_KEY = "episode_summary"  # the env's own record of a finished episode


def short_config(env_id: str):
    robot, name = skillgym.registered()[env_id]
    config = skillgym.make_task(robot, name).config
    return dataclasses.replace(config, episode_seconds=SHORT_SECONDS)


def single_file_ppo_env(env_id: str):
    """The per-env wrapper chain of a typical single-file PPO script."""

    def thunk():
        env = gym.make(env_id, config=short_config(env_id))
        env = gym.wrappers.FlattenObservation(env)
        env = gym.wrappers.RecordEpisodeStatistics(env)
        env = gym.wrappers.ClipAction(env)
        env = gym.wrappers.NormalizeObservation(env)
        env = gym.wrappers.TransformObservation(
            env, lambda obs: np.clip(obs, -10, 10), env.observation_space
        )
        env = gym.wrappers.NormalizeReward(env, gamma=0.99)
        return gym.wrappers.TransformReward(env, lambda reward: float(np.clip(reward, -10, 10)))

    return thunk


def run_until_every_env_ended_twice(envs, seed: int = 0, steps: int = 200) -> list[dict]:
    """Step random actions until every env has finished two episodes; the infos of the steps
    on which episodes ended."""
    envs.action_space.seed(seed)
    obs, _ = envs.reset(seed=seed)
    ended = np.zeros(envs.num_envs, dtype=int)
    infos = []
    for _ in range(steps):
        obs, reward, terminated, truncated, info = envs.step(envs.action_space.sample())
        assert np.isfinite(np.asarray(obs)).all() and np.isfinite(np.asarray(reward)).all()
        done = np.asarray(terminated) | np.asarray(truncated)
        if done.any():
            infos.append(info)
        ended += done
        if (ended >= 2).all():
            return infos
    raise AssertionError(f"episodes did not end: {ended}")


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_single_file_ppo_wrapper_chain_runs_whole_episodes_in_sync_vector_env(env_id):
    envs = gym.vector.SyncVectorEnv([single_file_ppo_env(env_id)] * 2)
    infos = run_until_every_env_ended_twice(envs)
    for info in infos:
        # Gymnasium's own statistics, and the env's record beside them, for the same envs.
        assert np.array_equal(info["_episode"], info[f"_{EPISODE_KEY}"])
        ended = info["_episode"]
        assert (info["episode"]["l"][ended] == info[EPISODE_KEY]["l"][ended]).all()
        assert info[EPISODE_KEY]["success"].dtype == bool
    envs.close()


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_single_file_ppo_wrapper_chain_runs_whole_episodes_in_async_vector_env(env_id):
    envs = gym.vector.AsyncVectorEnv([single_file_ppo_env(env_id)] * 2)
    infos = run_until_every_env_ended_twice(envs)
    assert all("episode" in info and EPISODE_KEY in info for info in infos)
    envs.close()


def gymnasium_vector_wrappers(envs):
    envs = gym.wrappers.vector.RecordEpisodeStatistics(envs)
    envs = gym.wrappers.vector.ClipAction(envs)
    envs = gym.wrappers.vector.NormalizeObservation(envs)
    envs = gym.wrappers.vector.TransformObservation(envs, lambda obs: np.clip(obs, -10, 10))
    return gym.wrappers.vector.NormalizeReward(envs, gamma=0.99)


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_gymnasium_vector_wrappers_run_whole_episodes_on_the_native_batch(env_id):
    envs = gymnasium_vector_wrappers(make_vec(env_id, 3, config=short_config(env_id)))
    infos = run_until_every_env_ended_twice(envs)
    for info in infos:
        assert np.array_equal(info["_episode"], info[f"_{EPISODE_KEY}"])
    envs.close()


def test_gymnasium_vector_wrappers_run_whole_episodes_on_the_mjx_batch():
    # The registered config and batch size the MJX tests trace, so traced once per run.
    envs = gymnasium_vector_wrappers(make_vec("skillgym/Arm7-Reach-v0", 4, backend="mjx"))
    infos = run_until_every_env_ended_twice(envs, steps=400)
    for info in infos:
        assert np.array_equal(info["_episode"], info[f"_{EPISODE_KEY}"])
    envs.close()


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_sb3_make_vec_env_vec_normalize_and_evaluate_policy_run_whole_episodes(env_id):
    from stable_baselines3 import PPO
    from stable_baselines3.common.env_util import make_vec_env
    from stable_baselines3.common.evaluation import evaluate_policy
    from stable_baselines3.common.vec_env import VecNormalize

    venv = VecNormalize(make_vec_env(env_id, n_envs=2, env_kwargs={"config": short_config(env_id)}))
    model = PPO("MlpPolicy", venv, n_steps=8, batch_size=16, seed=0)
    records = []

    def keep_records(local_vars, _globals):
        if local_vars["done"]:
            records.append(local_vars["info"])

    rewards, lengths = evaluate_policy(
        model, venv, n_eval_episodes=4, return_episode_rewards=True, callback=keep_records
    )
    assert len(rewards) == 4 and all(length >= 1 for length in lengths)
    # SB3's Monitor owns "episode"; the env's own record survives beside it.
    assert records and all("episode" in info and EPISODE_KEY in info for info in records)
    venv.close()


# ---- the autoreset modes of the native batch --------------------------------------------------


def first_end(envs, actions, limit: int = 200):
    """Step `actions` (one per step, reused) until some env ends; that step's outputs."""
    for _ in range(limit):
        out = envs.step(actions)
        if (np.asarray(out[2]) | np.asarray(out[3])).any():
            return out
    raise AssertionError("no episode ended")


@pytest.mark.parametrize("backend", ["cpu", "mjx"])
def test_next_step_autoreset_returns_the_last_observation_then_resets_ignoring_the_action(
    backend,
):
    def make():  # the registered config and batch size the MJX tests trace, so traced once
        return make_vec("skillgym/Arm7-Reach-v0", 4, backend=backend)

    envs, twin = make(), make()
    assert envs.metadata["autoreset_mode"] is AutoresetMode.NEXT_STEP
    zeros = np.zeros(envs.action_space.shape, dtype=np.float32)
    for env in (envs, twin):
        env.reset(seed=3)
        obs, reward, terminated, truncated, info = first_end(env, zeros)
    done = np.asarray(terminated) | np.asarray(truncated)
    assert done.all()  # the same episode length everywhere
    assert "final_obs" not in info and info[f"_{EPISODE_KEY}"].all()
    # The next step resets the ended envs, whatever action it is given.
    out = envs.step(zeros)
    twin_out = twin.step(np.ones_like(zeros))
    for value, twin_value in zip(out[:4], twin_out[:4], strict=True):
        np.testing.assert_array_equal(np.asarray(value), np.asarray(twin_value))
    assert (np.asarray(out[1]) == 0).all()
    assert not (np.asarray(out[2]) | np.asarray(out[3])).any()
    assert (np.asarray(envs.episode_state.steps) == 0).all()


def test_same_step_autoreset_reports_the_last_observation_in_final_obs():
    env_id = "skillgym/Arm7-Reach-v0"
    envs = make_vec(env_id, 2, config=short_config(env_id), autoreset_mode=AutoresetMode.SAME_STEP)
    envs.reset(seed=0)
    obs, _, _, _, info = first_end(envs, np.zeros(envs.action_space.shape))
    assert info["_final_obs"].all() and info["final_info"][f"_{EPISODE_KEY}"].all()
    assert not np.array_equal(obs[0], info["final_obs"][0])  # a fresh episode already
    assert (envs.episode_state.steps == 0).all()


@pytest.mark.parametrize("backend", ["cpu", "mjx"])
def test_disabled_autoreset_leaves_ended_envs_to_a_masked_reset(backend):
    envs = make_vec("skillgym/Arm7-Reach-v0", 4, autoreset_mode="disabled", backend=backend)
    envs.reset(seed=0)
    zeros = np.zeros(envs.action_space.shape, dtype=np.float32)
    *_, info = first_end(envs, zeros)
    assert info[f"_{EPISODE_KEY}"].all() and "final_obs" not in info
    # Ended envs wait: another step ends or earns nothing.
    _, reward, terminated, truncated, _ = envs.step(zeros)
    assert not (np.asarray(terminated) | np.asarray(truncated)).any()
    assert (np.asarray(reward) == 0).all()
    mask = np.array([True, False, True, False])
    steps = np.asarray(envs.episode_state.steps).copy()
    obs, _ = envs.reset(options={"reset_mask": mask})
    assert (np.asarray(envs.episode_state.steps)[mask] == 0).all()
    assert np.asarray(obs).shape == envs.observation_space.shape
    if backend == "cpu":  # the CPU batch keeps an ended episode's state until it is reset
        assert (envs.episode_state.steps[~mask] == steps[~mask]).all()


def test_an_unknown_autoreset_mode_is_refused_naming_the_modes():
    with pytest.raises(ValueError, match="NextStep.*SameStep.*Disabled"):
        make_vec("skillgym/Arm7-Reach-v0", 2, autoreset_mode="sometimes")
