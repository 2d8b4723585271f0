import gymnasium as gym
import numpy as np
import pytest

import skillgym

HUMANOIDS = ("tall19", "compact21", "tall21")
ENV_IDS = tuple(skillgym.registered())


def tiny_train_config(out, env_id="skillgym/Arm7-Reach-v0", **kwargs):
    """A PPO run of a few seconds: enough to write, evaluate and resume checkpoints."""
    from skillgym.training.ppo import TrainConfig

    defaults = dict(
        total_steps=1024, num_envs=8, rollout_steps=64, eval_every=512, eval_episodes=4, epochs=1
    )
    return TrainConfig(**{"env_id": env_id, "out": out, "num_threads": 1, **defaults, **kwargs})


def make_vec(env_id: str, num_envs: int = 4, **kwargs):
    return gym.make_vec(
        env_id, num_envs=num_envs, vectorization_mode="vector_entry_point", **kwargs
    )


def rollout(env, actions: np.ndarray, seed: int = 0):
    """Observations and rewards of a batched env driven by a fixed action sequence."""
    obs, _ = env.reset(seed=seed)
    observations, rewards = [obs], []
    for action in actions:
        obs, reward, _, _, _ = env.step(action)
        observations.append(obs)
        rewards.append(reward)
    return np.stack(observations), np.stack(rewards)


@pytest.fixture
def rng():
    return np.random.default_rng(0)
