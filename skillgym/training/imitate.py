"""Imitation of an env's scripted controller by DAgger, into the checkpoints `train` writes.

A scripted controller reads the simulator (object poses, the arm's kinematics); a policy sees only
its observation. DAgger teaches the policy the controller's actions on the states the policy
visits itself: the controller drives the first episodes, then each iteration the policy drives
and the controller labels every state it passes through, and the policy is refit on all labels so
far. Fitting the controller's own episodes alone is not enough: a policy that strays a little
from them meets states it never saw (on arm Lift, 115,200 labelled steps of them gave 0.00 and
0.01 success in two runs, where the controller scores 0.84).

    skillgym imitate skillgym/Arm7-Lift-v0 --iterations 20 --out runs/lift-dagger
    skillgym imitate skillgym/Arm7-Lift-v0 --resume --out runs/lift-dagger --iterations 30

Each iteration ends with the evaluation `skillgym train` runs (100 privilege-free episodes from
a fixed seed), `latest/` and `best/` checkpoints and a TensorBoard log; the labels live in
`dataset.npz`, so `--resume` goes on after a kill with at most one iteration lost. The network is
the actor of Stable-Baselines3's `ActorCriticPolicy`, as in every checkpoint, so `skillgym eval`,
`bench` and `train --init-from` (PPO fine-tuning) take it as they take any other.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import gymnasium as gym
import numpy as np
import torch
from gymnasium.vector import AutoresetMode
from torch.utils.tensorboard import SummaryWriter

from skillgym.evaluation import PolicyFn
from skillgym.policies.checkpoint import (
    CheckpointMetadata,
    actor_of,
    build_policy,
    read_actor,
    run_settings,
)
from skillgym.policies.scripted import scripted_policy
from skillgym.training.run_folder import RunFolder

DATASET = "dataset.npz"


@dataclass
class ImitateConfig:
    env_id: str
    out: Path
    iterations: int = 20  # after the controller's own episodes
    num_envs: int = 64
    num_threads: int | None = None
    seed: int = 0
    expert_rollouts: int = 6  # batches of episodes the controller drives, to start
    policy_rollouts: int = 2  # batches the policy drives per iteration, labelled by the controller
    first_fit_steps: int = 15_000  # gradient steps on the controller's own episodes
    fit_steps: int = 4_000  # gradient steps after each iteration's new labels
    batch_size: int = 4_096
    learning_rate: float = 1e-3  # the first fit's; later fits start at `refit_learning_rate`
    refit_learning_rate: float = 3e-4
    net_arch: list[int] = field(default_factory=lambda: [256, 256, 256])
    eval_episodes: int = 100

    def __post_init__(self) -> None:
        self.out = Path(self.out)
        for name in ("iterations", "num_envs", "expert_rollouts", "policy_rollouts", "batch_size"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, not {getattr(self, name)}")


def imitate(config: ImitateConfig, resume: bool = False) -> Path:
    """Run DAgger to `config.iterations`; return the latest checkpoint's folder."""
    run = RunFolder(config.out, config.env_id)
    dataset = run.path / DATASET
    if resume and not dataset.exists():
        raise FileNotFoundError(f"no imitation run to resume in {run.path}")
    run.claim(resume)
    if config.num_threads:
        torch.set_num_threads(config.num_threads)
    torch.manual_seed(config.seed)
    env = gym.make_vec(
        config.env_id,
        num_envs=config.num_envs,
        vectorization_mode="vector_entry_point",
        num_threads=config.num_threads,
        autoreset_mode=AutoresetMode.SAME_STEP,  # every step is one to label
    )
    controller = scripted_policy(env)
    if controller is None:
        raise ValueError(f"{config.env_id} has no scripted controller to imitate")
    writer = SummaryWriter(str(run.path / "tensorboard"))
    eval_env = run.evaluation_env(config.eval_episodes, num_threads=config.num_threads)
    start = time.perf_counter()

    if resume:
        actor, meta, tensors = read_actor(run.latest)
        meta.hyperparameters = run_settings(config)  # this session's settings, iterations first
        policy = actor.policy
        obs_mean, obs_var = tensors["obs_mean"].numpy(), tensors["obs_var"].numpy()
        data = dict(np.load(dataset))
        next_iteration = int(data.pop("iteration")) + 1
    else:
        data = collect(env, controller, None, config.expert_rollouts, config.seed)
        obs_mean, obs_var = data["obs"].mean(0), data["obs"].var(0) + 1e-4
        meta = CheckpointMetadata(
            env_id=config.env_id,
            obs_size=env.single_observation_space.shape[0],
            action_size=env.single_action_space.shape[0],
            net_arch=list(config.net_arch),
            trainer="dagger",
            seed=config.seed,
            hyperparameters=run_settings(config),
        )
        policy = build_policy(meta)
        loss = fit(policy, data, obs_mean, obs_var, config, config.first_fit_steps, first=True)
        meta.wall_seconds = time.perf_counter() - start
        save_iteration(run, eval_env, meta, policy, (obs_mean, obs_var), data, 0, loss, writer)
        next_iteration = 1
    wall_offset = meta.wall_seconds - (time.perf_counter() - start)

    for iteration in range(next_iteration, config.iterations + 1):
        actor = actor_of(policy, obs_mean, obs_var, meta)
        seed = config.seed + 1000 * iteration
        new = collect(env, controller, actor.act, config.policy_rollouts, seed)
        data = {key: np.concatenate([data[key], new[key]]) for key in ("obs", "action")}
        loss = fit(policy, data, obs_mean, obs_var, config, config.fit_steps, first=False)
        meta.wall_seconds = wall_offset + time.perf_counter() - start
        save_iteration(
            run, eval_env, meta, policy, (obs_mean, obs_var), data, iteration, loss, writer
        )
    writer.close()
    eval_env.close()
    env.close()
    return run.latest


def collect(
    env: gym.vector.VectorEnv,
    controller: PolicyFn,
    driver: PolicyFn | None,
    rollouts: int,
    seed: int,
) -> dict[str, np.ndarray]:
    """`rollouts` batches of whole episodes driven by `driver` (the controller when None), every
    state labelled with the controller's action there."""
    observations, actions = [], []
    for rollout in range(rollouts):
        obs, _ = env.reset(seed=seed + rollout)
        for _ in range(env.task.episode_steps):
            label = controller(obs)  # first: scripted controllers read the env's current state
            observations.append(np.asarray(obs, dtype=np.float32))
            actions.append(np.asarray(label, dtype=np.float32))
            obs, *_ = env.step(label if driver is None else driver(obs))
    return {"obs": np.concatenate(observations), "action": np.concatenate(actions)}


def fit(
    policy: torch.nn.Module,
    data: dict[str, np.ndarray],
    obs_mean: np.ndarray,
    obs_var: np.ndarray,
    config: ImitateConfig,
    steps: int,
    first: bool,
) -> float:
    """Regress the actor's mean action on the labels (squared error), the learning rate
    annealed to a thirtieth over `steps`. Returns the last batch's loss."""
    normalized = (data["obs"] - obs_mean) / np.sqrt(obs_var + 1e-8)
    inputs = torch.as_tensor(np.clip(normalized, -10.0, 10.0), dtype=torch.float32)
    labels = torch.as_tensor(data["action"])
    actor = [*policy.mlp_extractor.policy_net.parameters(), *policy.action_net.parameters()]
    rate = config.learning_rate if first else config.refit_learning_rate
    optimizer = torch.optim.Adam(actor, lr=rate)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, steps, rate / 30)
    loss = torch.zeros(())
    for _ in range(steps):
        batch = torch.randint(0, len(inputs), (config.batch_size,))
        latent = policy.mlp_extractor.forward_actor(inputs[batch])
        loss = ((policy.action_net(latent) - labels[batch]) ** 2).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        schedule.step()
    return loss.item()


def save_iteration(
    run: RunFolder,
    eval_env: gym.vector.VectorEnv,
    meta: CheckpointMetadata,
    policy: torch.nn.Module,
    obs_stats: tuple[np.ndarray, np.ndarray],
    data: dict[str, np.ndarray],
    iteration: int,
    loss: float,
    writer: SummaryWriter,
) -> None:
    """Evaluate, then write `latest/` (and `best/` when it is the best so far) and the labels."""
    obs_mean, obs_var = obs_stats
    actor = actor_of(policy, obs_mean, obs_var, meta)
    meta.env_steps = len(data["obs"])
    meta.evaluation = run.evaluate(actor.act, eval_env)
    success = meta.evaluation["success_rate"]
    writer.add_scalar("eval/success_rate", success, meta.env_steps)
    writer.add_scalar("imitation/loss", loss, meta.env_steps)
    writer.flush()
    run.save(meta, policy, obs_mean, obs_var)
    staging = run.path / f".{DATASET}"
    with open(staging, "wb") as f:
        np.savez(f, iteration=iteration, **data)
    os.replace(staging, run.path / DATASET)
    print(
        f"{meta.env_id}: iteration {iteration}, {meta.env_steps:,} labelled steps, "
        f"loss {loss:.2e}, success {success:.2f}",
        flush=True,
    )
