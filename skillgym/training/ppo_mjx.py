"""PPO on the device: MJX physics and a torch learner that share memory through DLPack.

The rollout, the advantage estimate and the updates all stay on the accelerator: observations
arrive from JAX as torch tensors without a copy, actions go back the same way. The network,
checkpoint format, evaluation and TensorBoard tags are the CPU trainer's (`skillgym.training.ppo`),
so a run can move between the two and `skillgym eval` reads either.
"""

from __future__ import annotations

import time
from typing import Any

import gymnasium as gym
import jax
import numpy as np
import torch
from torch.utils.tensorboard import SummaryWriter
from tqdm import tqdm

from skillgym.envs.registry import task_config
from skillgym.evaluation import score
from skillgym.policies.checkpoint import (
    Actor,
    CheckpointMetadata,
    best_success_rate,
    build_policy,
    read_checkpoint,
    read_training_state,
    save_checkpoint,
)
from skillgym.training.ppo import (
    EVAL_SEED,
    TrainConfig,
    claim_run_folder,
    resumed_noise,
    reward_term_means,
)


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


def train_mjx(config: TrainConfig, resume: bool = False, impl: str = "jax") -> CheckpointMetadata:
    """Train `config.env_id` on MJX until `config.total_steps`; checkpoints like `train`."""
    if config.init_from:
        raise ValueError("--init-from fine-tunes on the CPU backend; drop --backend mjx")
    claim_run_folder(config, resume)
    device = torch.device("cuda" if jax.default_backend() == "gpu" else "cpu")
    torch.manual_seed(config.seed)

    def make_env(num_envs: int, privileged: bool, **kwargs: Any) -> gym.vector.VectorEnv:
        return gym.make_vec(
            config.env_id,
            num_envs=num_envs,
            vectorization_mode="vector_entry_point",
            backend="mjx",
            impl=impl,
            array_type="torch",
            privileged=privileged,
            **kwargs,
        )

    env = make_env(
        config.num_envs, config.privileged, config=task_config(config.env_id, config.task_config)
    )
    curriculum = config.curriculum(env)
    n, obs_size = config.num_envs, env.single_observation_space.shape[0]
    act_size = env.single_action_space.shape[0]
    meta = CheckpointMetadata(
        env_id=config.env_id,
        obs_size=obs_size,
        action_size=env.model.nu,
        privileged_action_size=act_size - env.model.nu,
        net_arch=list(config.net_arch),
        activation=config.activation,
        trainer=f"torch-ppo-mjx-{impl}",
        seed=config.seed,
        hyperparameters=config.hyperparameters(),
    )
    policy = build_policy(meta, config.learning_rate).to(device)
    torch.nn.init.constant_(policy.log_std, config.initial_log_std)
    obs_rms, return_rms = RunningMeanStd((obs_size,), device), RunningMeanStd((), device)
    out = config.out
    if resume:  # the run's progress; settings and learning rate are this command's
        recorded, tensors = read_checkpoint(out / "latest")
        meta.env_steps, meta.wall_seconds = recorded.env_steps, recorded.wall_seconds
        training = read_training_state(out / "latest")
        policy.load_state_dict(tensors["policy"])
        policy.optimizer.load_state_dict(training["optimizer"])
        for group in policy.optimizer.param_groups:
            group["lr"] = config.learning_rate
        if (noise := resumed_noise(config, recorded)) is not None:
            torch.nn.init.constant_(policy.log_std, noise)
        obs_rms.mean, obs_rms.var = (tensors[k].to(device) for k in ("obs_mean", "obs_var"))
        obs_rms.count = float(training["obs_count"])
        return_rms.var = training["return_var"].to(device)
        if curriculum is not None and recorded.curriculum:
            curriculum.load_state_dict(recorded.curriculum)
    writer = SummaryWriter(str(out / "tensorboard" / "mjx"))
    eval_env = make_env(config.eval_episodes, privileged=False)  # kept: it compiles once

    def normalize(obs: torch.Tensor) -> torch.Tensor:
        std = torch.sqrt(obs_rms.var + 1e-8)
        return torch.clamp((obs - obs_rms.mean) / std, -meta.clip_obs, meta.clip_obs).float()

    # Rollout storage, on the device.
    steps = config.rollout_steps
    obs_buf = torch.zeros((steps, n, obs_size), device=device)
    act_buf = torch.zeros((steps, n, act_size), device=device)
    logp_buf, rew_buf, done_buf, val_buf = (torch.zeros((steps, n), device=device) for _ in "1234")
    discounted = torch.zeros(n, device=device, dtype=torch.float64)

    obs, _ = env.reset(seed=config.seed + meta.env_steps)
    start, wall_offset, env_steps = time.perf_counter(), meta.wall_seconds, meta.env_steps
    start_steps = env_steps
    next_eval = env_steps + config.eval_every
    best = best_success_rate(out) if resume else -1.0
    bar = tqdm(total=config.total_steps, initial=env_steps, unit="step", desc=config.env_id)
    while env_steps < config.total_steps:
        # 1. Collect a rollout with the current policy.
        policy.set_training_mode(False)
        for t in range(steps):
            obs_rms.update(obs)
            obs_buf[t] = normalize(obs)
            with torch.no_grad():
                action, value, logp = policy(obs_buf[t])
            obs, reward, terminated, truncated, info = env.step(action.clamp(-1.0, 1.0))
            reward = reward.float()
            with torch.no_grad():  # bootstrap through time limits, not through failures
                final = normalize(torch.from_dlpack(env.state.final_obs))
                reward = reward + config.gamma * truncated * policy.predict_values(final)[:, 0]
            discounted = discounted * config.gamma * ~(terminated | truncated) + reward
            return_rms.update(discounted)
            act_buf[t], logp_buf[t], val_buf[t] = action, logp, value[:, 0]
            rew_buf[t] = reward / torch.sqrt(return_rms.var + 1e-8).float()
            done_buf[t] = (terminated | truncated).float()
            if "final_info" in info:
                log_episodes(writer, info, env_steps)
                if curriculum is not None:
                    curriculum.update(info)
        env_steps += steps * n

        # 2. Generalized advantage estimation.
        with torch.no_grad():
            next_value = policy.predict_values(normalize(obs))[:, 0]
        advantages = torch.zeros_like(rew_buf)
        gae = torch.zeros(n, device=device)
        for t in reversed(range(steps)):
            value_next = next_value if t == steps - 1 else val_buf[t + 1]
            not_done = 1.0 - done_buf[t]
            delta = rew_buf[t] + config.gamma * value_next * not_done - val_buf[t]
            gae = delta + config.gamma * config.gae_lambda * not_done * gae
            advantages[t] = gae
        returns = advantages + val_buf

        # 3. Clipped-surrogate updates over shuffled minibatches.
        policy.set_training_mode(True)
        flat = [x.reshape(steps * n, *x.shape[2:]) for x in (obs_buf, act_buf, logp_buf)]
        flat_adv, flat_ret = advantages.reshape(-1), returns.reshape(-1)
        minibatch = steps * n // config.minibatches
        for _ in range(config.epochs):
            for idx in torch.randperm(steps * n, device=device).split(minibatch):
                values, logp, entropy = policy.evaluate_actions(flat[0][idx], flat[1][idx])
                adv = flat_adv[idx]
                adv = (adv - adv.mean()) / (adv.std() + 1e-8)
                ratio = torch.exp(logp - flat[2][idx])
                clipped = torch.clamp(ratio, 1 - config.clip_range, 1 + config.clip_range)
                policy_loss = -torch.min(ratio * adv, clipped * adv).mean()
                value_loss = 0.5 * ((values[:, 0] - flat_ret[idx]) ** 2).mean()
                loss = policy_loss + 0.5 * value_loss - config.ent_coef * entropy.mean()
                policy.optimizer.zero_grad()
                loss.backward()
                torch.nn.utils.clip_grad_norm_(policy.parameters(), 0.5)
                policy.optimizer.step()
        wall = wall_offset + time.perf_counter() - start
        writer.add_scalar("train/policy_loss", policy_loss.item(), env_steps)
        writer.add_scalar("train/value_loss", value_loss.item(), env_steps)
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
            actor = Actor(policy, obs_rms.mean, obs_rms.var, meta).to(device).eval()
            meta.evaluation = score(eval_env, torch.no_grad()(actor), EVAL_SEED)
            writer.add_scalar("eval/success_rate", meta.evaluation["success_rate"], env_steps)
            for name, value in meta.evaluation["metrics"].items():
                writer.add_scalar(f"eval/{name}", value, env_steps)
            training = {
                "optimizer": policy.optimizer.state_dict(),
                "return_var": return_rms.var.cpu(),
                "obs_count": torch.tensor(obs_rms.count),
            }
            stats = (obs_rms.mean.cpu().numpy(), obs_rms.var.cpu().numpy())
            names = ["latest"] + (["best"] if meta.evaluation["success_rate"] >= best else [])
            best = max(best, meta.evaluation["success_rate"])
            for name in names:
                save_checkpoint(out / name, meta, policy, *stats, training_state=training)
    bar.close()
    writer.close()
    return meta


def log_episodes(writer: SummaryWriter, info: dict, step: int) -> None:
    """The episodes that ended at this step: mean return, length, success, reward terms."""
    episode, ended = info["final_info"]["episode"], np.asarray(info["_final_info"])
    for name in ("r", "l", "success"):
        writer.add_scalar(f"rollout/ep_{name}_mean", float(np.mean(episode[name][ended])), step)
    for name, value in reward_term_means(info).items():
        writer.add_scalar(name, value, step)
