"""Scoring one task: a batch of N envs plays N episodes, and their records become metrics.

No partial resets count: every env's first episode runs to its end (success, a fall, or the
time limit) and is the one scored. The envs reset themselves when an episode ends (Gymnasium's
same-step autoreset), but what they do afterwards is discarded, and the loop stops once every
env has finished its first episode. The step, bookkeeping and metrics are the env's own
(`Task.advance`, `Task.episode_summary`), so the CPU and MJX backends score alike.
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path
from typing import Any

import gymnasium as gym
import mujoco
import numpy as np

from skillgym.benchmarks.policy_spec import PolicyContext, make_policy
from skillgym.benchmarks.suite import SuiteTask
from skillgym.core.task import FEASIBILITY_METRICS, EpisodeState
from skillgym.envs.render import Renderer, write_video
from skillgym.evaluation import run_episodes

BACKENDS = ("cpu", "mjx")
VIDEO_SIZE = (640, 480)  # width, height: the default of `--video-size`
VIDEO_EVERY = 2  # control steps per video frame: software rendering costs more than simulating
VIDEO_FRAMES = 125  # at most: 5 s of a 50 Hz task


@dataclasses.dataclass(frozen=True)
class TaskJob:
    """Everything one task's score depends on; picklable, so any process pool can run it."""

    task: SuiteTask
    policy: str  # a policy spec (see policy_spec.py)
    backend: str = "cpu"
    video_dir: str | None = None  # None: no video
    num_threads: int | None = None  # CPU physics threads; results do not depend on it
    video_size: tuple[int, int] = VIDEO_SIZE  # width, height


def run_task(job: TaskJob) -> dict[str, Any]:
    """Score one task; the record that goes into results.json under "tasks"."""
    start = time.perf_counter()
    env = _make_env(job)
    try:
        loaded = make_policy(job.policy, PolicyContext(env, job.task.seed))
        episodes, video = _play(env, loaded.policy, job)
        record = {
            "task": job.task.name,
            "env_id": job.task.env_id,
            "robot": env.task.robot.name,
            "episodes": job.task.episodes,
            "seed": job.task.seed,
            "episode_seconds": env.task.config.episode_seconds,
            "episode_steps": env.task.episode_steps,
            "policy": loaded.description,
            "accuracy_metric": env.task.metric_names[0],
            "metrics": _metrics(episodes, env.task.metric_names),
            "accuracy": {
                name: {
                    "at_end": _mean(episodes[f"{name}_at_end"]),
                    "episode_mean": _mean(episodes[name]),
                }
                for name in env.task.metric_names
            },
            "video": video,
        }
    finally:
        env.close()
    record["wall_seconds"] = round(time.perf_counter() - start, 3)
    return record


def check_policy(job: TaskJob) -> None:
    """Build the job's env and policy without playing: what fails here (a policy that does not
    fit the task, a robot that is not the suite's) would fail the job. On the CPU backend,
    whose spaces are every backend's, so the check costs no compilation."""
    env = _make_env(dataclasses.replace(job, backend="cpu"))
    try:
        make_policy(job.policy, PolicyContext(env, job.task.seed))
    finally:
        env.close()


def _make_env(job: TaskJob) -> gym.vector.VectorEnv:
    """The scored batch, with the suite's episode length; checks the suite's robot."""
    if job.backend not in BACKENDS:
        raise ValueError(f"backend must be one of {BACKENDS}, not {job.backend!r}")
    task = job.task
    kwargs: dict[str, Any] = {"backend": job.backend}
    if job.backend == "cpu":
        kwargs["num_threads"] = job.num_threads

    def make(**extra: Any) -> gym.vector.VectorEnv:
        return gym.make_vec(
            task.env_id, task.episodes, vectorization_mode="vector_entry_point", **kwargs, **extra
        )

    env = make()
    if env.task.robot.name != task.robot:
        env.close()
        raise ValueError(
            f"{task.env_id} runs robot {env.task.robot.name!r}, suite says {task.robot!r}"
        )
    config = env.task.config
    if task.episode_seconds is not None and task.episode_seconds != config.episode_seconds:
        env.close()
        env = make(config=dataclasses.replace(config, episode_seconds=task.episode_seconds))
    return env


def _play(
    env: gym.vector.VectorEnv, policy: Any, job: TaskJob
) -> tuple[dict[str, np.ndarray], str | None]:
    """Each env's first episode record, and env 0's video."""
    if job.video_dir is None:
        return run_episodes(env, policy, job.task.seed), None
    camera = _Camera(env, job.video_size)

    def film(step: int, scored: np.ndarray) -> None:
        if step == 0 or (not scored[0] and step % VIDEO_EVERY == 0):
            camera.capture()

    episodes = run_episodes(env, policy, job.task.seed, on_step=film)
    return episodes, str(camera.write(Path(job.video_dir) / f"{job.task.name}.mp4"))


class _Camera:
    """The first `VIDEO_FRAMES` frames of env 0, drawn from its positions (any backend)."""

    def __init__(self, env: gym.vector.VectorEnv, size: tuple[int, int]) -> None:
        self.env = env
        self.renderer = Renderer(env.model, *size, "rgb_array", env.task)
        self.frames: list[np.ndarray] = []

    def capture(self) -> None:
        if len(self.frames) >= VIDEO_FRAMES:
            return
        snap = self.env.snapshot()
        data = self.renderer.data
        data.qpos[:] = snap.qpos[0]
        data.qvel[:] = snap.qvel[0]
        mujoco.mj_forward(self.env.model, data)
        state = EpisodeState(*(np.asarray(x)[0] for x in self.env.episode_state))
        self.frames.append(self.renderer.render(state))

    def write(self, path: Path) -> Path:
        self.renderer.close()
        return write_video(path, self.frames, fps=1.0 / (self.env.dt * VIDEO_EVERY))


def _metrics(episodes: dict[str, np.ndarray], metric_names: tuple[str, ...]) -> dict[str, Any]:
    """The per-task numbers, each a mean over the scored episodes."""
    metrics = {
        "success_rate": _mean(episodes["success"]),
        "success_at_end_rate": _mean(episodes["success_at_end"]),
        "accuracy_error": _mean(episodes[f"{metric_names[0]}_at_end"]),
        "fall_rate": _mean(episodes["fell"]),
        "physics_error_rate": _mean(episodes["physics_error"]),
        "return": _mean(episodes["r"]),
        "episode_length": _mean(episodes["l"]),
    }
    metrics.update({name: _mean(episodes[name]) for name in FEASIBILITY_METRICS})
    return metrics


def _mean(values: np.ndarray) -> float | None:
    """A JSON-safe mean: None where an episode's record is not finite (a physics blow-up)."""
    mean = float(np.mean(np.asarray(values, dtype=np.float64)))
    return mean if np.isfinite(mean) else None
