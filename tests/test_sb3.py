"""Stable-Baselines3 trains on the batched env directly."""

import numpy as np
from conftest import make_vec
from gymnasium.vector import AutoresetMode
from stable_baselines3 import PPO
from stable_baselines3.common.env_checker import check_env as sb3_check_env

from skillgym.envs.sb3 import SB3VecEnv

SAME_STEP = AutoresetMode.SAME_STEP  # Stable-Baselines3 resets envs in the step they end


def test_ppo_runs_a_few_thousand_steps_and_logs_episodes():
    env = SB3VecEnv(make_vec("skillgym/Tall19-Walk-v0", num_envs=16, autoreset_mode=SAME_STEP))
    model = PPO("MlpPolicy", env, n_steps=64, batch_size=256, n_epochs=2, device="cpu", seed=0)
    model.learn(total_timesteps=4096)
    assert model.num_timesteps >= 4096
    assert len(model.ep_info_buffer) > 0  # humanoids fall early on: episodes were recorded
    assert all(np.isfinite(ep["r"]) for ep in model.ep_info_buffer)


def test_ppo_accepts_dict_observations_with_the_multi_input_policy():
    env = SB3VecEnv(
        make_vec("skillgym/Arm7-Reach-v0", num_envs=4, obs_mode="dict", autoreset_mode=SAME_STEP)
    )
    model = PPO("MultiInputPolicy", env, n_steps=32, batch_size=64, n_epochs=1, device="cpu")
    model.learn(total_timesteps=256)
    assert model.num_timesteps >= 256


def test_finished_episodes_carry_sb3_terminal_observation_and_success():
    env = SB3VecEnv(make_vec("skillgym/Arm7-Reach-v0", num_envs=2, autoreset_mode=SAME_STEP))
    env.seed(0)
    env.reset()
    for _ in range(150):
        _, _, dones, infos = env.step(np.zeros((2, 8)))
    assert dones.all()
    for info in infos:
        assert info["terminal_observation"].shape == env.observation_space.shape
        assert info["TimeLimit.truncated"] and info["is_success"] is False
        assert info["episode"]["l"] == info["episode_summary"]["l"] == 150


def test_single_env_passes_sb3_env_checker():
    import gymnasium as gym

    sb3_check_env(gym.make("skillgym/Compact21-Step-v0").unwrapped)


def test_sb3_vec_env_puts_the_batch_in_same_step_autoreset_mode():
    batch = make_vec("skillgym/Arm7-Reach-v0", num_envs=2)
    assert batch.autoreset_mode is AutoresetMode.NEXT_STEP
    env = SB3VecEnv(batch)
    assert batch.autoreset_mode is AutoresetMode.SAME_STEP
    assert batch.metadata["autoreset_mode"] is AutoresetMode.SAME_STEP
    env.reset()
    for _ in range(batch.task.episode_steps):
        _, _, dones, infos = env.step(np.zeros((2, 8)))
    assert dones.all() and all("terminal_observation" in info for info in infos)
