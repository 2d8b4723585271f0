"""Evaluate a policy on a privilege-free env: fixed seeds, one episode per env, no partial resets.

`N` episodes run as one batch of `N` envs from `reset(seed)`; each env's first episode is
scored and whatever it does after its episode ends is ignored, so every policy sees the same
`N` initial states and goals.
"""

from __future__ import annotations

import platform
import sys
from collections.abc import Callable
from importlib import metadata
from typing import Any

import gymnasium as gym
import numpy as np
from tqdm import tqdm

from skillgym.core.task import FEASIBILITY_METRICS
from skillgym.envs.vector import finished_episodes

PolicyFn = Callable[[np.ndarray], np.ndarray]

_VERSIONED = ("skillgym", "mujoco", "numpy", "gymnasium", "onnxruntime", "torch")
_MJX_VERSIONED = ("jax", "jaxlib", "mujoco-mjx")


def software_versions(backend: str) -> dict[str, str | None]:
    """Versions of what the numbers depend on (None: not installed)."""
    names = _VERSIONED + (_MJX_VERSIONED if backend == "mjx" else ())
    versions: dict[str, str | None] = {"python": platform.python_version()}
    for name in names:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


# Seconds between progress updates when stderr is a log file rather than a terminal.
LOG_UPDATE_SECONDS = 60.0


def progress_bar(**kwargs: Any) -> tqdm:
    """A tqdm bar that redraws live on a terminal and, written into a log, adds a line at most
    every LOG_UPDATE_SECONDS."""
    if not sys.stderr.isatty():
        kwargs.setdefault("mininterval", LOG_UPDATE_SECONDS)
        kwargs.setdefault("maxinterval", LOG_UPDATE_SECONDS)
    return tqdm(**kwargs)


def run_episodes(
    env: gym.vector.VectorEnv,
    policy: PolicyFn,
    seed: int,
    progress: bool = False,
    on_step: Callable[[int, np.ndarray], None] | None = None,
) -> dict[str, np.ndarray]:
    """One episode per env; each env's first episode record (`info["episode_summary"]`, plus
    `fell` and `physics_error`), as arrays over envs. Works on either backend in any autoreset
    mode, whatever array type the env hands out. `on_step(step, scored)` sees which envs'
    episodes have ended."""
    obs, _ = env.reset(seed=seed)
    n = env.num_envs
    scored = np.zeros(n, dtype=bool)
    records: dict[str, np.ndarray] = {}
    bar = progress_bar(total=n, desc="episodes", unit="ep", disable=not progress, leave=False)
    for step in range(env.task.episode_steps):  # every first episode has ended by then
        obs, _, terminated, _, info = env.step(policy(obs))
        finished, ended = finished_episodes(info, n)
        if ended.any():
            new = ended & ~scored
            episode = {
                **finished,
                "fell": host(terminated),
                "physics_error": host(info["physics_error"]),
            }
            for name, values in episode.items():
                column = records.setdefault(name, np.zeros(n, dtype=np.asarray(values).dtype))
                column[new] = np.asarray(values)[new]
            scored |= new
            bar.update(int(new.sum()))
        if on_step is not None:
            on_step(step, scored)
        if scored.all():
            break
    bar.close()
    return records


def host(x: Any) -> np.ndarray:
    """A NumPy copy of a NumPy, JAX or torch array."""
    return x.cpu().numpy() if hasattr(x, "cpu") else np.asarray(x)


def summarize(env_id: str, task: Any, records: dict[str, np.ndarray]) -> dict[str, Any]:
    """The evaluation record: success rate, accuracy and feasibility metrics (means over
    episodes of each episode's mean), falls and return."""
    names = (*task.metric_names, *task.episode_metric_names, *FEASIBILITY_METRICS)
    metrics = {name: float(np.mean(records[name])) for name in names}
    metrics.update(
        falls=float(np.mean(records["fell"])),
        episode_return=float(np.mean(records["r"])),
    )
    return {
        "env_id": env_id,
        "episodes": int(len(records["success"])),
        "success_rate": float(np.mean(records["success"])),
        "metrics": metrics,
    }


def evaluate(
    env_id: str,
    make_policy: Callable[[gym.vector.VectorEnv], PolicyFn],
    episodes: int = 100,
    seed: int = 0,
    progress: bool = False,
    **env_kwargs: Any,
) -> dict[str, Any]:
    """Score a policy on `episodes` episodes of the privilege-free env `env_id`.

    `make_policy(env)` gives the policy: a learned one ignores the env, a scripted one reads it.
    `env_kwargs` choose the backend (`backend="mjx"`, `array_type=...`) or its threads.
    """
    env = gym.make_vec(
        env_id, num_envs=episodes, vectorization_mode="vector_entry_point", **env_kwargs
    )
    try:
        return score(env, make_policy(env), seed, progress)
    finally:
        env.close()


def score(
    env: gym.vector.VectorEnv, policy: PolicyFn, seed: int, progress: bool = False
) -> dict[str, Any]:
    """`evaluate` on an env that already exists (a trainer keeps its evaluation env)."""
    return summarize(env.env_id, env.task, run_episodes(env, policy, seed, progress))
