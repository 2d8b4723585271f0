"""Throughput of the batched envs against the raw physics they run on.

The ratio `env / raw` says what the task code costs: raw is `mujoco.batch` stepping the same
model, the same number of envs on the same threads for `frame_skip` substeps, with no task code.
Measurements alternate env and raw runs and report medians, so a noisy machine moves both alike.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import gymnasium as gym
import mujoco
import numpy as np
from gymnasium.vector import AutoresetMode
from mujoco import batch as mj_batch

from skillgym.envs.vector import SkillVectorEnv

ACTION_NOISE = 0.3


@dataclass(frozen=True)
class SpeedResult:
    name: str
    num_envs: int
    num_threads: int
    frame_skip: int
    env_steps_per_s: float  # policy (control) steps per second, summed over envs
    raw_steps_per_s: float | None  # the same for raw physics; None for peers without a raw figure
    ratio: float | None  # median over repeats of env / raw, each pair measured back to back

    @property
    def physics_steps_per_s(self) -> float:
        return self.env_steps_per_s * self.frame_skip


def _rate(run: Callable[[], None], steps: int) -> float:
    start = time.perf_counter()
    run()
    return steps / (time.perf_counter() - start)


def measure_env(
    env_id: str, num_envs: int = 64, num_threads: int = 2, steps: int = 200, repeats: int = 7
) -> SpeedResult:
    """Policy steps/s of a skillgym env and of raw `mujoco.batch` on its model, interleaved."""
    env: SkillVectorEnv = gym.make_vec(
        env_id,
        num_envs=num_envs,
        vectorization_mode="vector_entry_point",
        num_threads=num_threads,
        autoreset_mode=AutoresetMode.SAME_STEP,  # as the trainers step it
    )
    env.reset(seed=0)
    # Exploration-like actions: a policy's mean near the default pose plus Gaussian noise.
    rng = np.random.default_rng(0)
    actions = np.clip(rng.normal(0.0, ACTION_NOISE, (steps, *env.action_space.shape)), -1, 1)

    raw = mj_batch.Batch(env.model, num_envs, num_threads, persistent=False)
    raw.reset(keyframe=np.full(num_envs, env.model.keyframe("home").id))
    ctrl = raw.bind("ctrl")
    raw_ctrl = env.task.ctrl_from_action(actions)

    def run_env() -> None:
        for action in actions:
            env.step(action)

    def run_raw() -> None:
        raw.state[:] = env.physics.batch.state  # start where the env is, standing or falling
        for c in raw_ctrl:
            ctrl[:] = c
            raw.step(nstep=env.frame_skip, stage=mujoco.mjtStage.mjSTAGE_VEL)

    total = steps * num_envs
    env_rates, raw_rates = [], []
    for _ in range(repeats):
        env_rates.append(_rate(run_env, total))
        raw_rates.append(_rate(run_raw, total))
    env.close()
    ratios = np.array(env_rates) / np.array(raw_rates)
    return SpeedResult(
        env_id,
        num_envs,
        num_threads,
        env.frame_skip,
        float(np.median(env_rates)),
        float(np.median(raw_rates)),
        float(np.median(ratios)),
    )


def measure_gymnasium_humanoid(
    num_envs: int = 64, steps: int = 100, repeats: int = 3
) -> SpeedResult:
    """The peer: Gymnasium's Humanoid-v5 in its SyncVectorEnv."""
    env = gym.make_vec("Humanoid-v5", num_envs=num_envs, vectorization_mode="sync")
    env.reset(seed=0)
    actions = np.random.default_rng(0).uniform(-0.4, 0.4, (steps, *env.action_space.shape))

    def run() -> None:
        for action in actions:
            env.step(action)

    rates = [_rate(run, steps * num_envs) for _ in range(repeats)]
    frame_skip = env.envs[0].unwrapped.frame_skip
    env.close()
    return SpeedResult(
        "Humanoid-v5 (Gymnasium, SyncVectorEnv)",
        num_envs,
        1,
        frame_skip,
        float(np.median(rates)),
        None,
        None,
    )


def measure_mjx(
    env_id: str, num_envs: int, impl: str = "jax", steps: int = 20, repeats: int = 3
) -> tuple[SpeedResult, float]:
    """Policy steps/s of an env on MJX, on whatever JAX device is present, and its compile time."""
    import jax
    import jax.numpy as jnp

    env = gym.make_vec(
        env_id,
        num_envs=num_envs,
        vectorization_mode="vector_entry_point",
        backend="mjx",
        impl=impl,
        array_type="jax",
    )
    compile_seconds = env.compile()
    env.reset(seed=0)
    key = jax.random.PRNGKey(0)
    actions = jnp.clip(
        ACTION_NOISE * jax.random.normal(key, (steps, *env.action_space.shape)), -1, 1
    )

    def run() -> None:
        for action in actions:
            env.step(action)
        env.state.obs.block_until_ready()

    rates = [_rate(run, steps * num_envs) for _ in range(repeats)]
    device = jax.devices()[0].device_kind
    name = f"{env_id} (mjx/{impl}, {device})"
    result = SpeedResult(name, num_envs, 0, env.frame_skip, float(np.median(rates)), None, None)
    return result, compile_seconds


def measure_training(
    env_id: str,
    controllers: tuple[str, ...] = ("flat", "blend"),
    num_envs: int = 64,
    num_threads: int = 2,
    updates: int = 3,
    repeats: int = 5,
) -> dict[str, float]:
    """Training throughput (env steps per second, PPO updates included) of each controller on
    one task: median over `repeats` of `updates` PPO iterations, the controllers measured in
    turn so a noisy machine moves all alike."""
    import tempfile
    from pathlib import Path

    import torch

    from skillgym.training.ppo import TrainConfig, make_model, make_training_env

    torch.set_num_threads(num_threads)
    models, rates = {}, {c: [] for c in controllers}
    with tempfile.TemporaryDirectory() as folder:
        for controller in controllers:
            config = TrainConfig(
                env_id=env_id,
                out=Path(folder) / controller,
                num_envs=num_envs,
                num_threads=num_threads,
                privileged=False,
                controller=controller,
            )
            env, _ = make_training_env(config)
            models[controller] = make_model(config, env)
            models[controller].learn(config.rollout_steps * num_envs)  # warm up
        steps = updates * config.rollout_steps * num_envs
        for _ in range(repeats):
            for controller, model in models.items():
                start = time.perf_counter()
                model.learn(steps, reset_num_timesteps=False)
                rates[controller].append(steps / (time.perf_counter() - start))
        for model in models.values():
            model.get_env().close()
    return {controller: float(np.median(r)) for controller, r in rates.items()}


def format_table(results: list[SpeedResult]) -> str:
    header = (
        "| env | envs | threads | policy steps/s | physics steps/s | raw physics steps/s | ratio |"
    )
    rows = [header, "|---|---:|---:|---:|---:|---:|---:|"]
    for r in results:
        raw = "" if r.raw_steps_per_s is None else f"{r.raw_steps_per_s * r.frame_skip:,.0f}"
        ratio = "" if r.ratio is None else f"{r.ratio:.2f}"
        threads = r.num_threads or ""
        rows.append(
            f"| {r.name} | {r.num_envs} | {threads} | {r.env_steps_per_s:,.0f} | "
            f"{r.physics_steps_per_s:,.0f} | {raw} | {ratio} |"
        )
    return "\n".join(rows)
