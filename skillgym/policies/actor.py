"""The deterministic actor every consumer runs, and the MLP actor-critic it is read from."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
import torch
from stable_baselines3.common.policies import ActorCriticPolicy
from torch import nn

ACTIVATIONS = {"elu": nn.ELU, "tanh": nn.Tanh, "relu": nn.ReLU}


def policy_kwargs(net_arch: list[int], activation: str) -> dict[str, Any]:
    return {
        "net_arch": {"pi": list(net_arch), "vf": list(net_arch)},
        "activation_fn": ACTIVATIONS[activation],
    }


def mlp_policy(
    obs_size: int, action_size: int, net_arch: list[int], activation: str, lr: float = 3e-4
) -> ActorCriticPolicy:
    """SB3's MLP actor-critic for these sizes (fresh weights)."""
    obs_space = gym.spaces.Box(-np.inf, np.inf, (obs_size,), np.float32)
    act_space = gym.spaces.Box(-1.0, 1.0, (action_size,), np.float32)
    return ActorCriticPolicy(
        obs_space, act_space, lambda _: lr, **policy_kwargs(net_arch, activation)
    )


class Actor(nn.Module):
    """Observation to robot action, deterministic: what evaluation, demos and export run.

    Normalizes the observation with the training statistics, runs the policy mean, drops the
    privileged channels and clips to the action space.
    """

    def __init__(
        self,
        policy: ActorCriticPolicy,
        obs_mean: Any,
        obs_var: Any,
        clip_obs: float,
        action_size: int,
    ) -> None:
        super().__init__()
        self.policy = policy
        self.register_buffer("obs_mean", torch.as_tensor(obs_mean, dtype=torch.float32))
        self.register_buffer("obs_std", torch.sqrt(torch.as_tensor(obs_var) + 1e-8).float())
        self.clip_obs = clip_obs
        self.action_size = action_size

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        x = torch.clamp((obs - self.obs_mean) / self.obs_std, -self.clip_obs, self.clip_obs)
        latent = self.policy.mlp_extractor.forward_actor(self.policy.extract_features(x))
        return torch.clamp(self.policy.action_net(latent)[..., : self.action_size], -1.0, 1.0)

    @torch.no_grad()
    def act(self, obs: Any) -> np.ndarray:
        """NumPy in, NumPy out: the `Policy` protocol of the reference policies."""
        return self(torch.as_tensor(np.asarray(obs), dtype=torch.float32)).numpy()
