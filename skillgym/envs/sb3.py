"""Stable-Baselines3 on the batched env: a `VecEnv` adapter, no per-env Python processes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from gymnasium.vector import AutoresetMode
from stable_baselines3.common.vec_env import VecEnv

from skillgym.envs.vector import EPISODE_KEY, SkillVectorEnv


class SB3VecEnv(VecEnv):
    """Presents a `SkillVectorEnv` as SB3's VecEnv, whose envs reset in the step their episode
    ends: it puts the batch in Gymnasium's SAME_STEP autoreset mode.

    Finished episodes carry SB3's `terminal_observation`, `TimeLimit.truncated`, an `episode`
    record (return `r`, length `l`, for SB3's logger), `is_success`, and the env's own record
    under `episode_summary`.
    """

    def __init__(self, env: SkillVectorEnv) -> None:
        env.set_autoreset_mode(AutoresetMode.SAME_STEP)
        self.env = env
        super().__init__(env.num_envs, env.single_observation_space, env.single_action_space)
        self._actions: np.ndarray | None = None
        self.last_info: dict[str, Any] = {}  # the vector env's own info, for curricula

    def reset(self) -> Any:
        seed = self._seeds[0] if self._seeds and self._seeds[0] is not None else None
        obs, _ = self.env.reset(seed=seed)
        self._reset_seeds()
        return obs

    def step_async(self, actions: np.ndarray) -> None:
        self._actions = actions

    def step_wait(self) -> tuple[Any, np.ndarray, np.ndarray, list[dict]]:
        obs, reward, terminated, truncated, info = self.env.step(self._actions)
        self.last_info = info
        dones = terminated | truncated
        infos: list[dict[str, Any]] = [{} for _ in range(self.num_envs)]
        final = info.get("final_info", {})
        for i in np.flatnonzero(dones):
            episode = final[EPISODE_KEY]
            infos[i] = {
                "terminal_observation": info["final_obs"][i],
                "TimeLimit.truncated": bool(truncated[i]),
                "is_success": bool(episode["success"][i]),
                "physics_error": bool(final["physics_error"][i]),
                "episode": {"r": float(episode["r"][i]), "l": int(episode["l"][i])},
                EPISODE_KEY: {k: v[i] for k, v in episode.items() if not k.startswith("_")},
            }
        return obs, reward.astype(np.float32), dones, infos

    def close(self) -> None:
        self.env.close()

    def render(self, mode: str | None = None) -> np.ndarray | None:
        return self.env.render()

    def get_attr(self, attr_name: str, indices: Any = None) -> list[Any]:
        return [getattr(self.env, attr_name)] * len(self._get_indices(indices))

    def set_attr(self, attr_name: str, value: Any, indices: Any = None) -> None:
        setattr(self.env, attr_name, value)

    def env_method(
        self, method_name: str, *method_args: Any, indices: Any = None, **method_kwargs: Any
    ) -> list[Any]:
        result = getattr(self.env, method_name)(*method_args, **method_kwargs)
        return [result] * len(self._get_indices(indices))

    def env_is_wrapped(self, wrapper_class: type, indices: Any = None) -> list[bool]:
        return [False] * len(self._get_indices(indices))

    def _get_indices(self, indices: Any) -> Sequence[int]:
        if indices is None:
            return range(self.num_envs)
        return [indices] if isinstance(indices, int) else indices
