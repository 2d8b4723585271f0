"""PPO on the device: MJX physics and a torch learner that share memory through DLPack.

The rollout, the advantage estimate and the updates all stay on the accelerator: observations
arrive from JAX as torch tensors without a copy, actions go back the same way. The network,
checkpoint format, evaluation and TensorBoard tags are the CPU trainer's (`skillgym.training.ppo`),
so a run can move between the two and `skillgym eval` reads either.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import gymnasium as gym
import jax
import numpy as np
import torch
from gymnasium.vector import AutoresetMode
from stable_baselines3.common.policies import ActorCriticPolicy
from torch.utils.tensorboard import SummaryWriter
from tqdm import tqdm

from skillgym.curricula import Curriculum
from skillgym.envs.registry import task_config
from skillgym.envs.vector import finished_episodes
from skillgym.policies.actor import Actor
from skillgym.policies.checkpoint import (
    CheckpointMetadata,
    actor_of,
    build_policy,
    read_checkpoint,
    read_training_state,
)
from skillgym.policies.composed import ComposedPolicy
from skillgym.policies.library import (
    check_same_skills,
    composed_skills,
    observation_statistics,
    skills_noise,
)
from skillgym.training.ppo import (
    TrainConfig,
    adapted_learning_rate,
    resumed_noise,
    reward_term_means,
)
from skillgym.training.run_folder import RunFolder


class RunningMeanStd:
    """Streaming mean and variance (parallel algorithm), on the device."""

    def __init__(self, shape: tuple[int, ...], device: torch.device) -> None:
        self.mean = torch.zeros(shape, dtype=torch.float64, device=device)
        self.var = torch.ones(shape, dtype=torch.float64, device=device)
        self.count = 1e-4

    def update(self, x: torch.Tensor) -> None:
        x = x.double().reshape(-1, *self.mean.shape)
        batch_mean, batch_var, n = x.mean(0), x.var(0, unbiased=False), x.shape[0]
        delta, total = batch_mean - self.mean, self.count + n
        self.mean = self.mean + delta * n / total
        self.var = (
            self.var * self.count + batch_var * n + delta**2 * self.count * n / total
        ) / total
        self.count = total


@dataclass
class Learner:
    """What training changes: the policy and the statistics that normalize its inputs (the
    observations) and its rewards (by the spread of the discounted return)."""

    policy: ActorCriticPolicy
    obs_rms: RunningMeanStd
    return_rms: RunningMeanStd
    clip_obs: float

    def normalize(self, obs: torch.Tensor) -> torch.Tensor:
        """The policy's input: normalized observations, or raw ones for a composed policy (it
        normalizes for its own network, and its skills for theirs)."""
        if isinstance(self.policy, ComposedPolicy):
            return obs.float()
        std = torch.sqrt(self.obs_rms.var + 1e-8)
        return torch.clamp((obs - self.obs_rms.mean) / std, -self.clip_obs, self.clip_obs).float()

    def training_state(self) -> dict[str, Any]:
        """What `--resume` needs beyond the policy: the optimizer and the normalizer's state."""
        return {
            "optimizer": self.policy.optimizer.state_dict(),
            "return_var": self.return_rms.var.cpu(),
            "obs_count": torch.tensor(self.obs_rms.count),
        }


@dataclass
class Rollout:
    """One rollout of every env, on the device: (steps, num_envs, ...) per field."""

    obs: torch.Tensor
    actions: torch.Tensor
    logp: torch.Tensor
    rewards: torch.Tensor
    dones: torch.Tensor
    values: torch.Tensor

    @classmethod
    def zeros(
        cls, steps: int, n: int, obs_size: int, act_size: int, device: torch.device
    ) -> Rollout:
        scalars = (torch.zeros((steps, n), device=device) for _ in range(4))
        return cls(
            torch.zeros((steps, n, obs_size), device=device),
            torch.zeros((steps, n, act_size), device=device),
            *scalars,
        )


def train_mjx(config: TrainConfig, resume: bool = False, impl: str = "jax") -> CheckpointMetadata:
    """Train `config.env_id` on MJX until `config.total_steps`; checkpoints like `train`."""
    if config.init_from:
        raise ValueError("--init-from fine-tunes on the CPU backend; drop --backend mjx")
    if config.critic_warmup:
        raise ValueError("--critic-warmup runs on the CPU backend; drop --backend mjx")
    run = RunFolder(config.out, config.env_id)
    run.claim(resume)
    device = torch.device("cuda" if jax.default_backend() == "gpu" else "cpu")
    torch.manual_seed(config.seed)
    env = make_training_env(config, impl)
    curriculum = config.curriculum(env)
    records, skills = shipped_skills(config)
    meta = run_metadata(config, env, impl, records)
    learner = make_learner(config, meta, device, skills)
    if resume:
        restore(run, learner, curriculum, config, meta)
    writer = SummaryWriter(str(run.path / "tensorboard" / "mjx"))
    # Kept for the whole run: it compiles once.
    eval_env = run.evaluation_env(
        config.eval_episodes, backend="mjx", impl=impl, array_type="torch"
    )

    n, steps = config.num_envs, config.rollout_steps
    obs_size, act_size = meta.obs_size, meta.policy_action_size
    rollout = Rollout.zeros(steps, n, obs_size, act_size, device)
    discounted = torch.zeros(n, device=device, dtype=torch.float64)
    policy, obs_rms, return_rms = learner.policy, learner.obs_rms, learner.return_rms

    obs, _ = env.reset(seed=config.seed + meta.env_steps)
    start, wall_offset, env_steps = time.perf_counter(), meta.wall_seconds, meta.env_steps
    start_steps = env_steps
    next_eval = env_steps + config.eval_every
    bar = tqdm(total=config.total_steps, initial=env_steps, unit="step", desc=config.env_id)
    while env_steps < config.total_steps:
        # 1. Collect a rollout with the current policy.
        policy.set_training_mode(False)
        for t in range(steps):
            obs_rms.update(obs)
            rollout.obs[t] = learner.normalize(obs)
            with torch.no_grad():
                action, value, logp = policy(rollout.obs[t])
            obs, reward, terminated, truncated, info = env.step(action.clamp(-1.0, 1.0))
            reward = reward.float()
            with torch.no_grad():  # bootstrap through time limits, not through failures
                final = learner.normalize(torch.from_dlpack(env.state.final_obs))
                reward = reward + config.gamma * truncated * policy.predict_values(final)[:, 0]
            discounted = discounted * config.gamma * ~(terminated | truncated) + reward
            return_rms.update(discounted)
            rollout.actions[t], rollout.logp[t], rollout.values[t] = action, logp, value[:, 0]
            rollout.rewards[t] = reward / torch.sqrt(return_rms.var + 1e-8).float()
            rollout.dones[t] = (terminated | truncated).float()
            if "final_info" in info:
                log_episodes(writer, info, env_steps)
                if curriculum is not None:
                    curriculum.update(info)
        env_steps += steps * n

        # 2. Generalized advantage estimation.
        with torch.no_grad():
            next_value = policy.predict_values(learner.normalize(obs))[:, 0]
        advantages = generalized_advantages(rollout, next_value, config.gamma, config.gae_lambda)

        # 3. Clipped-surrogate updates over shuffled minibatches.
        policy_loss, value_loss = ppo_update(policy, rollout, advantages, config)
        wall = wall_offset + time.perf_counter() - start
        writer.add_scalar("train/policy_loss", policy_loss, env_steps)
        writer.add_scalar("train/value_loss", value_loss, env_steps)
        writer.add_scalar("train/learning_rate", policy.optimizer.param_groups[0]["lr"], env_steps)
        rate = (env_steps - start_steps) / (time.perf_counter() - start)
        writer.add_scalar("time/env_steps_per_s", rate, env_steps)
        for name, value in curriculum.log().items() if curriculum else ():
            writer.add_scalar(name, value, env_steps)
        bar.update(steps * n)

        # 4. Evaluate on the privilege-free env and checkpoint.
        if env_steps >= next_eval or env_steps >= config.total_steps:
            next_eval += config.eval_every
            meta.env_steps, meta.wall_seconds = env_steps, wall
            meta.curriculum = curriculum.state_dict() if curriculum else {}
            evaluate_and_save(run, learner, meta, eval_env, writer)
    bar.close()
    writer.close()
    return meta


def make_training_env(config: TrainConfig, impl: str) -> gym.vector.VectorEnv:
    """The batched env on MJX (privileged if asked), handing out torch tensors."""
    return gym.make_vec(
        config.env_id,
        num_envs=config.num_envs,
        vectorization_mode="vector_entry_point",
        backend="mjx",
        impl=impl,
        array_type="torch",
        autoreset_mode=AutoresetMode.SAME_STEP,  # rollouts bootstrap from `final_obs`
        privileged=config.privileged,
        config=task_config(config.env_id, config.task_config),
        randomize=config.randomize,  # the MJX env says it does not randomize yet
    )


def shipped_skills(config: TrainConfig) -> tuple[list[dict[str, Any]], list[Actor]]:
    """A composed run's skills: their records and actors, laid out as on the CPU backend (the
    task's observation is the same on both). Empty lists for a flat run."""
    if not config.composed:
        return [], []
    cpu_env = gym.make_vec(config.env_id, num_envs=1, vectorization_mode="vector_entry_point")
    try:
        cpu_env.reset(seed=config.seed)
        return composed_skills(cpu_env, config.skills)
    finally:
        cpu_env.close()


def run_metadata(
    config: TrainConfig, env: gym.vector.VectorEnv, impl: str, skills: list[dict[str, Any]]
) -> CheckpointMetadata:
    """The metadata of the run's checkpoints, before any progress."""
    act_size = env.single_action_space.shape[0]
    controller = {}
    if skills:
        controller = {"mode": config.controller, "residual": config.residual, "skills": skills}
    return CheckpointMetadata(
        env_id=config.env_id,
        obs_size=env.single_observation_space.shape[0],
        action_size=env.model.nu,
        privileged_action_size=act_size - env.model.nu,
        net_arch=list(config.net_arch),
        activation=config.activation,
        trainer=f"torch-ppo-mjx-{impl}",
        seed=config.seed,
        hyperparameters=config.hyperparameters(),
        controller=controller,
    )


def make_learner(
    config: TrainConfig, meta: CheckpointMetadata, device: torch.device, skills: list[Actor]
) -> Learner:
    """A fresh policy at the run's initial exploration noise, and fresh statistics. A composed
    policy gets its skills' weights, its fixed observation statistics and, unless
    `log_std_init` is given, its skills' exploration noise, as on the CPU trainer."""
    policy = build_policy(meta, config.learning_rate)
    noise = config.initial_log_std
    if meta.controller:
        if config.log_std_init is None:
            noise = skills_noise(skills)
        for slot, skill in zip(policy.composer.skills, skills, strict=True):
            slot.load_state_dict(skill.state_dict())
        mean, var = observation_statistics(meta.controller["skills"], skills, meta.obs_size)
        policy.obs_mean.copy_(torch.as_tensor(mean))
        policy.obs_std.copy_(torch.sqrt(torch.as_tensor(var) + 1e-8))
    policy = policy.to(device)
    torch.nn.init.constant_(policy.log_std, noise)
    return Learner(
        policy,
        RunningMeanStd((meta.obs_size,), device),
        RunningMeanStd((), device),
        meta.clip_obs,
    )


def restore(
    run: RunFolder,
    learner: Learner,
    curriculum: Curriculum | None,
    config: TrainConfig,
    meta: CheckpointMetadata,
) -> None:
    """The run's progress from `latest/` into `learner`, `curriculum` and `meta`; its settings
    are this command's, and its learning rate too unless it adapts to a KL target."""
    recorded, tensors = read_checkpoint(run.latest)
    if recorded.controller.get("mode") != meta.controller.get("mode"):
        raise ValueError(f"{run.latest} was trained with another controller; start a new run")
    if meta.controller:
        check_same_skills(recorded.controller["skills"], meta.controller["skills"])
    training = read_training_state(run.latest)
    meta.env_steps, meta.wall_seconds = recorded.env_steps, recorded.wall_seconds
    policy, device = learner.policy, learner.obs_rms.mean.device
    policy.load_state_dict(tensors["policy"])
    policy.optimizer.load_state_dict(training["optimizer"])
    if config.kl_target is None:  # else the step size goes on where its adaptation left it
        for group in policy.optimizer.param_groups:
            group["lr"] = config.learning_rate
    if (noise := resumed_noise(config, recorded)) is not None:
        torch.nn.init.constant_(policy.log_std, noise)
    learner.obs_rms.mean = tensors["obs_mean"].to(device)
    learner.obs_rms.var = tensors["obs_var"].to(device)
    learner.obs_rms.count = float(training["obs_count"])
    learner.return_rms.var = training["return_var"].to(device)
    if curriculum is not None and recorded.curriculum:
        curriculum.load_state_dict(recorded.curriculum)


def generalized_advantages(
    rollout: Rollout, next_value: torch.Tensor, gamma: float, gae_lambda: float
) -> torch.Tensor:
    """GAE(lambda) of every step of `rollout`, bootstrapped from `next_value` after its end."""
    advantages = torch.zeros_like(rollout.rewards)
    gae = torch.zeros_like(next_value)
    steps = len(rollout.rewards)
    for t in reversed(range(steps)):
        value_next = next_value if t == steps - 1 else rollout.values[t + 1]
        not_done = 1.0 - rollout.dones[t]
        delta = rollout.rewards[t] + gamma * value_next * not_done - rollout.values[t]
        gae = delta + gamma * gae_lambda * not_done * gae
        advantages[t] = gae
    return advantages


def ppo_update(
    policy: ActorCriticPolicy, rollout: Rollout, advantages: torch.Tensor, config: TrainConfig
) -> tuple[float, float]:
    """`config.epochs` passes of clipped-surrogate updates over shuffled minibatches, then, with
    `config.kl_target`, the step size adapted to their mean approximate KL; the last
    minibatch's policy and value losses."""
    policy.set_training_mode(True)
    total = advantages.numel()
    obs, actions, old_logp = (
        x.reshape(total, *x.shape[2:]) for x in (rollout.obs, rollout.actions, rollout.logp)
    )
    flat_adv, flat_ret = advantages.reshape(-1), (advantages + rollout.values).reshape(-1)
    minibatch = total // config.minibatches
    kls = []
    for _ in range(config.epochs):
        for idx in torch.randperm(total, device=flat_adv.device).split(minibatch):
            values, logp, entropy = policy.evaluate_actions(obs[idx], actions[idx])
            adv = flat_adv[idx]
            adv = (adv - adv.mean()) / (adv.std() + 1e-8)
            log_ratio = logp - old_logp[idx]
            ratio = torch.exp(log_ratio)
            if config.kl_target is not None:  # SB3's estimate, kept on the device
                kls.append(((ratio - 1) - log_ratio).mean().detach())
            clipped = torch.clamp(ratio, 1 - config.clip_range, 1 + config.clip_range)
            policy_loss = -torch.min(ratio * adv, clipped * adv).mean()
            value_loss = 0.5 * ((values[:, 0] - flat_ret[idx]) ** 2).mean()
            loss = policy_loss + 0.5 * value_loss - config.ent_coef * entropy.mean()
            policy.optimizer.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(policy.parameters(), 0.5)
            policy.optimizer.step()
    if config.kl_target is not None:
        rate = adapted_learning_rate(
            policy.optimizer.param_groups[0]["lr"], torch.stack(kls).mean().item(), config.kl_target
        )
        for group in policy.optimizer.param_groups:
            group["lr"] = rate
    return policy_loss.item(), value_loss.item()


def evaluate_and_save(
    run: RunFolder,
    learner: Learner,
    meta: CheckpointMetadata,
    eval_env: gym.vector.VectorEnv,
    writer: SummaryWriter,
) -> None:
    """Score the policy on the privilege-free env, log the score and checkpoint the run."""
    obs_rms, step = learner.obs_rms, meta.env_steps
    actor = actor_of(learner.policy, obs_rms.mean, obs_rms.var, meta)
    meta.evaluation = run.evaluate(torch.no_grad()(actor), eval_env)
    writer.add_scalar("eval/success_rate", meta.evaluation["success_rate"], step)
    for name, value in meta.evaluation["metrics"].items():
        writer.add_scalar(f"eval/{name}", value, step)
    stats = (obs_rms.mean.cpu().numpy(), obs_rms.var.cpu().numpy())
    if isinstance(learner.policy, ComposedPolicy):
        stats = (learner.policy.obs_mean.cpu().numpy(), learner.policy.obs_std.cpu().numpy() ** 2)
    run.save(meta, learner.policy, *stats, learner.training_state())


def log_episodes(writer: SummaryWriter, info: dict, step: int) -> None:
    """The episodes that ended at this step: mean return, length, success, reward terms."""
    episode, ended = finished_episodes(info, len(info["success"]))
    for name in ("r", "l", "success"):
        writer.add_scalar(f"rollout/ep_{name}_mean", float(np.mean(episode[name][ended])), step)
    for name, value in reward_term_means(info).items():
        writer.add_scalar(name, value, step)
