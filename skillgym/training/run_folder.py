"""A training run's folder, the same for every trainer: claimed, resumed, scored and saved here.

    run = RunFolder(out, env_id)
    recorded = run.claim(resume)  # `latest/`'s metadata when resuming, None for a new run
    ...
    meta.evaluation = run.evaluate(actor.act, eval_env)
    run.save(meta, policy, obs_mean, obs_var, training_state)

`latest/` is the last checkpoint and `best/` the one of the best evaluated success rate so far
(a tie goes to the later one); a run with privileges also keeps `levels/<k>/`, its last
checkpoint at curriculum level k, to show what it did at each level. Beside them a trainer
keeps its own files: TensorBoard logs, imitation labels.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
from stable_baselines3.common.policies import ActorCriticPolicy

from skillgym.evaluation import PolicyFn, score
from skillgym.policies.checkpoint import CheckpointMetadata, read_metadata, save_checkpoint

EVAL_SEED = 1_000_003  # fixed and apart from training seeds


class RunFolder:
    """The folder of one training run of `env_id`."""

    def __init__(self, path: str | os.PathLike, env_id: str) -> None:
        self.path = Path(path)
        self.env_id = env_id

    @property
    def latest(self) -> Path:
        return self.path / "latest"

    @property
    def best(self) -> Path:
        return self.path / "best"

    def claim(self, resume: bool) -> CheckpointMetadata | None:
        """On `resume`, `resume()`; otherwise create the folder, refusing one with anything in it:
        two runs in one folder would mix their `best/` and their evaluation logs."""
        if resume:
            return self.resume()
        if self.latest.exists():
            raise ValueError(
                f"{self.path} holds a run already: --resume continues it, another --out starts anew"
            )
        if self.path.exists() and any(self.path.iterdir()):
            raise ValueError(f"{self.path} is not empty: a new run needs a folder of its own")
        self.path.mkdir(parents=True, exist_ok=True)
        return None

    def resume(self) -> CheckpointMetadata:
        """The metadata of `latest/`, the settings the run recorded included (`hyperparameters`).
        Refuses a folder without one, or the run of another env."""
        if not self.latest.exists():
            raise FileNotFoundError(f"--resume: no checkpoint at {self.latest}")
        recorded = read_metadata(self.latest)
        if recorded.env_id != self.env_id:
            raise ValueError(
                f"--resume: {self.path} holds a run of {recorded.env_id}, not of {self.env_id}"
            )
        return recorded

    def evaluation_env(self, episodes: int, **env_kwargs: Any) -> gym.vector.VectorEnv:
        """The privilege-free env the run is scored on, one env per episode; `env_kwargs` choose
        its backend or threads."""
        return gym.make_vec(
            self.env_id, num_envs=episodes, vectorization_mode="vector_entry_point", **env_kwargs
        )

    def evaluate(self, policy: PolicyFn, env: gym.vector.VectorEnv) -> dict[str, Any]:
        """The evaluation record of `policy` on `evaluation_env`'s episodes from `EVAL_SEED`."""
        return score(env, policy, EVAL_SEED)

    def best_success_rate(self) -> float:
        """The evaluated success rate of `best/`; -1 before the run has one."""
        return read_metadata(self.best).evaluation["success_rate"] if self.best.exists() else -1.0

    def save(
        self,
        meta: CheckpointMetadata,
        policy: ActorCriticPolicy,
        obs_mean: np.ndarray,
        obs_var: np.ndarray,
        training_state: dict[str, Any] | None = None,
    ) -> None:
        """Write `latest/`, `best/` too when `meta.evaluation` scores at least as well, and
        `levels/<k>/` at the curriculum's privilege level k (its envs' mean level, rounded)."""
        checkpoint = (meta, policy, obs_mean, obs_var, training_state)
        save_checkpoint(self.latest, *checkpoint)
        if meta.evaluation["success_rate"] >= self.best_success_rate():
            save_checkpoint(self.best, *checkpoint)
        privileges = meta.curriculum.get("privileges")
        if privileges:
            level = round(float(np.mean(privileges["level"])))
            save_checkpoint(self.path / "levels" / str(level), meta, policy, obs_mean, obs_var)
