"""Train a skill with PPO on the CPU backend (Stable-Baselines3), read top to bottom.

`skillgym train ENV_ID --out DIR` trains on the batched env in its training variant, where the
skill's privileges (virtual forces, relaxed constraints) act and a success-gated curriculum takes
them away (`--no-privileged` trains on the plain env instead); every `eval_every` env steps it
scores the policy on the privilege-free env with fixed seeds, logs to TensorBoard, and writes
`DIR/latest` (and `DIR/best`, the best success rate so far) atomically. `--resume` continues
from `DIR/latest`: weights, optimizer, normalization statistics, step count and curriculum stage,
so a killed run loses nothing beyond its last checkpoint. `--init-from CKPT` starts a new run
from another checkpoint's policy and observation statistics (fine-tuning; the optimizer starts
fresh), counting on from its env steps and wall-clock so the metadata records all the compute.

`--controller blend|mcp|switch` trains, instead of a policy of joint actions, a high-level
controller that drives the robot's frozen shipped skills (skillgym.policies.composed) on a task
that composes them. It sees the task's raw observation (the skills normalize their own; the
controller's network uses fixed statistics taken from the skills) and trains on the plain env,
where the skills were made to work.
"""

from __future__ import annotations

import dataclasses
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import torch
from stable_baselines3 import PPO
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.policies import ActorCriticPolicy
from stable_baselines3.common.vec_env import VecNormalize

from skillgym.curricula import COMMAND_ERROR, Curriculum, LevelTerm, check_gates, make_curriculum
from skillgym.envs.registry import task_config
from skillgym.envs.sb3 import SB3VecEnv
from skillgym.envs.vector import finished_episodes
from skillgym.policies.actor import policy_kwargs
from skillgym.policies.checkpoint import (
    CheckpointMetadata,
    actor_of,
    describe,
    read_checkpoint,
    read_metadata,
    read_training_state,
    run_settings,
)
from skillgym.policies.composed import MODES, ComposedPolicy, make_composer
from skillgym.policies.library import (
    check_same_skills,
    composed_skills,
    observation_statistics,
    skills_noise,
)
from skillgym.training.run_folder import RunFolder


@dataclass
class TrainConfig:
    """One training run. Defaults suit the humanoid and arm skills on a 2-core CPU."""

    env_id: str
    out: Path
    total_steps: int = 20_000_000
    num_envs: int = 64
    num_threads: int | None = None
    seed: int = 0
    privileged: bool = True  # train with the skill's privileges and their curriculum
    # One curriculum level per env, promoted when its episode succeeds and demoted when it
    # fails, instead of one level promoted by a window of episodes: envs spread over the levels
    # where the policy succeeds about half the time, so it trains across them at once.
    per_env_levels: bool = False
    # The curriculum's gates: privileges come off while more than `promote_at` of the episodes
    # succeed; narrowed commands widen while the mean tracking error stays below `widen_below`.
    promote_at: float = LevelTerm.threshold
    widen_below: float = COMMAND_ERROR
    eval_every: int = 500_000
    eval_episodes: int = 100
    rollout_steps: int = 32  # per env, per PPO update
    minibatches: int = 4  # per epoch
    epochs: int = 5
    learning_rate: float = 3e-4
    gamma: float = 0.99
    gae_lambda: float = 0.95
    clip_range: float = 0.2
    # The approximate KL per update that the step size is adapted to (None: a fixed step
    # size). As the action noise shrinks, a fixed step moves the policy further each update.
    kl_target: float | None = None
    ent_coef: float = 0.0
    # Exploration at the start, as log std: -0.5 from scratch; a fine-tune keeps its
    # checkpoint's unless this is set (precision skills fine-tune better with less noise).
    log_std_init: float | None = None
    net_arch: list[int] = field(default_factory=lambda: [256, 128])
    activation: str = "elu"
    init_from: str | None = None  # a checkpoint to fine-tune, or None to start from scratch
    # Env steps at the start of a fine-tune or a composed controller's run that train the
    # critic alone.
    critic_warmup: int = 0
    # Task settings of the training env only, e.g. {"target_radius": 0.3}: scores are always
    # the registered env's.
    task_config: dict[str, Any] = field(default_factory=dict)
    # "flat": a policy of joint actions; else a composed controller's mode (see MODES), with
    # goals as residuals around the task's decomposition or, without `residual`, absolute.
    controller: str = "flat"
    residual: bool = True
    randomize: str | None = None  # a domain randomization preset for the training env
    # Env steps from the run's start over which the randomization grows from none to all of
    # the preset (0: all of it from the start).
    randomize_ramp: int = 0
    # A composed controller's skills: skill name -> checkpoint folder, instead of the shipped
    # checkpoint of that skill.
    skills: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # A bad setting fails before any run folder exists.
        task_config(self.env_id, self.task_config)
        check_gates(self.promote_at, self.widen_below)
        if self.kl_target is not None and self.kl_target <= 0:
            raise ValueError(f"--kl-target {self.kl_target}: a positive KL, or leave it out")
        if self.randomize_ramp < 0 or (self.randomize_ramp and self.randomize is None):
            raise ValueError("--randomize-ramp takes env steps (>= 0), with --randomize")
        if self.controller not in ("flat", *MODES) or self.controller == "scripted":
            choices = ", ".join(m for m in ("flat", *MODES) if m != "scripted")
            raise ValueError(f"--controller {self.controller!r}: one of {choices}")
        # A composed controller trains on the plain env, for which its skills were made; a task
        # without privileges has no other.
        if self.composed or not task_config(self.env_id, self.task_config).privileges:
            self.privileged = False

    @property
    def composed(self) -> bool:
        return self.controller != "flat"

    @property
    def initial_log_std(self) -> float:
        return -0.5 if self.log_std_init is None else self.log_std_init

    def curriculum(self, env: Any) -> Curriculum | None:
        """The training env's curriculum, or None for an env without privileges."""
        if env.privileges is None:
            return None
        return make_curriculum(
            env,
            per_env=self.per_env_levels,
            success_rate=self.promote_at,
            command_error=self.widen_below,
        )

    def hyperparameters(self) -> dict[str, Any]:
        return run_settings(self)


def run_config(env_id: str, out: Path, resume: bool = False, **given: Any) -> TrainConfig:
    """A run's settings: the defaults, or on `resume` the settings its latest checkpoint
    recorded, overridden by those `given` (what the command names). A resumed run keeps its
    learning rate, privileges and fine-tuning origin unless told otherwise."""
    recorded = RunFolder(out, env_id).resume().hyperparameters if resume else {}
    known = {f.name for f in dataclasses.fields(TrainConfig)} - {"env_id", "out"}
    settings = {k: v for k, v in recorded.items() if k in known} | given
    return TrainConfig(env_id=env_id, out=out, **settings)


def make_training_env(config: TrainConfig) -> tuple[VecNormalize, Curriculum | None]:
    """The batched env (privileged if asked and the skill has privileges) and its curriculum."""
    env = gym.make_vec(
        config.env_id,
        num_envs=config.num_envs,
        vectorization_mode="vector_entry_point",
        num_threads=config.num_threads,
        privileged=config.privileged,
        config=task_config(config.env_id, config.task_config),
        randomize=config.randomize,
    )
    curriculum = config.curriculum(env)
    # A composed controller's skills read the raw observation; only the reward is normalized.
    norm = VecNormalize(SB3VecEnv(env), norm_obs=not config.composed, gamma=config.gamma)
    return norm, curriculum


def controller_kwargs(config: TrainConfig, env: VecNormalize) -> dict[str, Any]:
    """The composed policy's own settings: its composer (with the shipped skills), the fixed
    observation statistics of its network and, unless `log_std_init` is given, its skills'
    exploration noise. Empty for a flat policy."""
    if not config.composed:
        return {}
    vector_env = env.venv.env
    vector_env.reset(seed=config.seed)
    records, skills = composed_skills(vector_env, config.skills)
    controller = {"mode": config.controller, "residual": config.residual, "skills": records}
    obs_mean, obs_var = observation_statistics(records, skills, env.observation_space.shape[0])
    composer = make_composer(controller, skills, env.action_space.shape[0])
    kwargs = {"composer": composer, "obs_mean": obs_mean, "obs_var": obs_var}
    if config.log_std_init is None:
        kwargs["log_std_init"] = skills_noise(skills)
    return kwargs


def adapted_learning_rate(rate: float, kl: float, kl_target: float) -> float:
    """The next update's step size after an update of mean approximate KL `kl`: down 1.5 x
    above twice the target, up 1.5 x below half of it, within [1e-5, 1e-2] (the rule of the
    legged-robot PPO trainers, rsl_rl's "adaptive" schedule)."""
    if kl > 2.0 * kl_target:
        rate /= 1.5
    elif kl < kl_target / 2.0:
        rate *= 1.5
    return float(np.clip(rate, 1e-5, 1e-2))


def set_actor_trainable(policy: ActorCriticPolicy, trainable: bool) -> None:
    """Let the updates move the actor (its network and noise), or freeze it."""
    for module in (policy.mlp_extractor.policy_net, policy.action_net):
        module.requires_grad_(trainable)
    policy.log_std.requires_grad_(trainable)


def actor_trains(policy: ActorCriticPolicy) -> bool:
    """Whether the next update moves the actor (see `set_actor_trainable`)."""
    return bool(policy.log_std.requires_grad)


class AdaptivePPO(PPO):
    """Stable-Baselines3's PPO; with `kl_target`, the step size adapts to each update's KL.
    The optimizer carries the current step size, so a resumed run goes on with it. While the
    actor is frozen the KL is 0 by construction and says nothing of the step size, which stays."""

    def __init__(self, *args: Any, kl_target: float | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.kl_target = kl_target

    def train(self) -> None:
        if self.kl_target is None:
            return super().train()
        rate = self.policy.optimizer.param_groups[0]["lr"]
        self.lr_schedule = lambda _: rate  # what PPO.train sets the optimizer's step size from
        super().train()
        if not actor_trains(self.policy):
            return
        kl = self.logger.name_to_value["train/approx_kl"]
        for group in self.policy.optimizer.param_groups:
            group["lr"] = adapted_learning_rate(rate, kl, self.kl_target)


def make_model(config: TrainConfig, env: VecNormalize) -> AdaptivePPO:
    return AdaptivePPO(
        ComposedPolicy if config.composed else "MlpPolicy",
        env,
        n_steps=config.rollout_steps,
        batch_size=config.rollout_steps * config.num_envs // config.minibatches,
        n_epochs=config.epochs,
        learning_rate=config.learning_rate,
        gamma=config.gamma,
        gae_lambda=config.gae_lambda,
        clip_range=config.clip_range,
        kl_target=config.kl_target,
        ent_coef=config.ent_coef,
        policy_kwargs={
            **policy_kwargs(config.net_arch, config.activation),
            "log_std_init": config.initial_log_std,
            **controller_kwargs(config, env),
        },
        tensorboard_log=str(config.out / "tensorboard"),
        seed=config.seed,
        device="cpu",
        verbose=0,
    )


def metadata(
    config: TrainConfig, env: VecNormalize, policy: Any, **progress: Any
) -> CheckpointMetadata:
    return CheckpointMetadata(
        env_id=config.env_id,
        obs_size=env.observation_space.shape[0],
        action_size=env.get_attr("model")[0].nu,
        privileged_action_size=env.action_space.shape[0] - env.get_attr("model")[0].nu,
        net_arch=list(config.net_arch),
        activation=config.activation,
        clip_obs=env.clip_obs,
        seed=config.seed,
        hyperparameters=config.hyperparameters(),
        controller=policy.composer.record if isinstance(policy, ComposedPolicy) else {},
        **progress,
    )


def observation_statistics_of(policy: Any, env: VecNormalize) -> tuple[Any, Any]:
    """The observation statistics a checkpoint keeps: a composed policy's fixed ones, else the
    normalizer's running ones."""
    if isinstance(policy, ComposedPolicy):
        return policy.obs_mean.numpy(), policy.obs_std.numpy() ** 2
    return env.obs_rms.mean, env.obs_rms.var


class CriticWarmup(BaseCallback):
    """Freeze the actor until env step `until`: the first steps of a fine-tune. Its critic never
    saw the new run's reward or return statistics; until it has, its advantages are noise that
    would undo the policy being tuned."""

    def __init__(self, until: int) -> None:
        super().__init__()
        self.until = until

    def _on_training_start(self) -> None:
        set_actor_trainable(self.model.policy, self.num_timesteps >= self.until)

    def _on_step(self) -> bool:
        return True

    def _on_rollout_end(self) -> None:  # runs before each update
        set_actor_trainable(self.model.policy, self.num_timesteps >= self.until)


class RandomizationRamp(BaseCallback):
    """Grow the training env's randomization linearly from none at env step `start` to all of
    it `steps` later, set before each rollout and logged as `randomization/fraction`."""

    def __init__(self, env: VecNormalize, start: int, steps: int) -> None:
        super().__init__()
        self.vector_env = env.venv.env
        self.start, self.steps = start, steps

    def _on_rollout_start(self) -> None:
        fraction = float(np.clip((self.num_timesteps - self.start) / self.steps, 0.0, 1.0))
        self.vector_env.set_randomization_fraction(fraction)
        self.logger.record("randomization/fraction", fraction)

    def _on_step(self) -> bool:
        return True


def reward_term_means(info: dict[str, Any]) -> dict[str, float]:
    """Each reward term's part of the return, averaged over the episodes that ended at this
    step (none: empty), keyed `reward/<term>` as TensorBoard shows them. The total return
    hides which terms a policy earns; these show it."""
    episode, ended = finished_episodes(info, len(info["success"]))
    if not ended.any():
        return {}
    return {
        name: float(np.mean(values[ended]))
        for name, values in episode.items()
        if name.startswith("reward/")
    }


class EvaluateAndCheckpoint(BaseCallback):
    """Every step: the curriculum sees finished episodes, the log their reward terms. Every
    `eval_every` steps: score on the privilege-free env, log, write checkpoints."""

    def __init__(
        self,
        config: TrainConfig,
        run: RunFolder,
        env: VecNormalize,
        curriculum: Curriculum | None,
        wall_offset: float,
        started_from: dict[str, Any],
    ) -> None:
        super().__init__()
        self.config = config
        self.run = run
        self.norm = env
        self.curriculum = curriculum
        self.wall_offset = wall_offset
        self.started_from = started_from
        self.start = time.perf_counter()
        self.next_eval = 0
        self.eval_env = run.evaluation_env(config.eval_episodes, num_threads=config.num_threads)

    def _on_training_start(self) -> None:
        self.next_eval = self.num_timesteps + self.config.eval_every

    def _on_step(self) -> bool:
        info = self.norm.venv.last_info
        if self.curriculum is not None:
            self.curriculum.update(info)
        for name, value in reward_term_means(info).items():
            self.logger.record_mean(name, value)
        if self.num_timesteps >= self.next_eval:
            self.next_eval += self.config.eval_every
            self.evaluate_and_save()
        return True

    def _on_rollout_end(self) -> None:
        for name, value in self.curriculum.log().items() if self.curriculum else ():
            self.logger.record(name, value)

    def _on_training_end(self) -> None:
        self.evaluate_and_save()
        self.eval_env.close()

    def evaluate_and_save(self) -> None:
        obs_mean, obs_var = observation_statistics_of(self.model.policy, self.norm)
        meta = metadata(
            self.config,
            self.norm,
            self.model.policy,
            env_steps=int(self.num_timesteps),
            wall_seconds=self.wall_offset + time.perf_counter() - self.start,
            curriculum=self.curriculum.state_dict() if self.curriculum else {},
            started_from=self.started_from,
        )
        actor = actor_of(self.model.policy, obs_mean, obs_var, meta)
        self.model.policy.set_training_mode(False)
        meta.evaluation = self.run.evaluate(actor.act, self.eval_env)
        self.logger.record("eval/success_rate", meta.evaluation["success_rate"])
        for name, value in meta.evaluation["metrics"].items():
            self.logger.record(f"eval/{name}", value)
        self.logger.record("time/env_steps_per_s", meta.env_steps / max(meta.wall_seconds, 1e-9))
        self.logger.dump(self.num_timesteps)
        state = training_state(self.model, self.norm)
        self.run.save(meta, self.model.policy, obs_mean, obs_var, state)


def training_state(model: PPO, env: VecNormalize) -> dict[str, Any]:
    """What `--resume` needs beyond the policy: the optimizer and the normalizer's state."""
    return {
        "optimizer": model.policy.optimizer.state_dict(),
        "return_var": torch.as_tensor(env.ret_rms.var),
        "obs_count": torch.as_tensor(env.obs_rms.count if env.norm_obs else 0.0),
    }


def warm_start(
    path: str | Path,
    model: PPO,
    env: VecNormalize,
    curriculum: Curriculum | None,
    config: TrainConfig,
) -> CheckpointMetadata:
    """Load a checkpoint's policy, observation statistics and step count into a fresh model,
    and its curriculum's levels into the run's curriculum where they fit it (privileges taken
    away stay away).

    An env whose observation has grown at its end since the checkpoint still starts from it:
    the new entries get zero weights, so the policy acts as it did until training finds a use
    for them, and unit statistics until the normalizer learns theirs."""
    meta, tensors = read_checkpoint(path)
    obs_size, action_size = env.observation_space.shape[0], env.action_space.shape[0]
    grown = obs_size - meta.obs_size
    if meta.env_id != config.env_id or meta.policy_action_size != action_size or grown < 0:
        raise ValueError(
            f"{path}: a checkpoint of {meta.env_id} "
            f"(obs {meta.obs_size}, actions {meta.policy_action_size}) cannot start "
            f"{config.env_id} (obs {obs_size}, actions {action_size}); "
            "--no-privileged matches a checkpoint trained without privileges"
        )
    recorded_mode = meta.controller.get("mode", "flat")
    if recorded_mode != config.controller:
        raise ValueError(
            f"{path}: a checkpoint of a {recorded_mode} controller cannot start a "
            f"{config.controller} one"
        )
    if curriculum is not None and meta.curriculum and same_curriculum(meta, config):
        curriculum.load_state_dict(meta.curriculum)
    if config.composed:  # the same skills, exactly, and the same network
        check_same_skills(meta.controller["skills"], model.policy.composer.record["skills"])
        model.policy.load_state_dict(tensors["policy"])
        model.num_timesteps = meta.env_steps
        return meta
    fresh = model.policy.state_dict()
    model.policy.load_state_dict(
        {
            name: pad_last_axis(w, fresh[name].shape[-1], 0.0)
            for name, w in tensors["policy"].items()
        }
    )
    env.obs_rms.mean = pad_last_axis(tensors["obs_mean"], obs_size, 0.0).numpy()
    env.obs_rms.var = pad_last_axis(tensors["obs_var"], obs_size, 1.0).numpy()
    env.obs_rms.count = float(meta.env_steps)  # the statistics are as settled as its training
    model.num_timesteps = meta.env_steps
    return meta


def pad_last_axis(tensor: torch.Tensor, size: int, value: float) -> torch.Tensor:
    """`tensor` with its last axis filled out to `size` by `value`."""
    missing = size - tensor.shape[-1]
    return torch.cat([tensor, tensor.new_full((*tensor.shape[:-1], missing), value)], dim=-1)


def restore(
    path: Path, model: PPO, env: VecNormalize, curriculum: Curriculum | None, config: TrainConfig
) -> CheckpointMetadata:
    """`warm_start` from `latest`, plus what resuming needs: the optimizer and the normalizer's
    counts."""
    meta = warm_start(path, model, env, curriculum, config)
    if meta.obs_size != env.observation_space.shape[0]:
        raise ValueError(
            f"{path} was trained on {meta.obs_size} observations and {config.env_id} now has "
            f"{env.observation_space.shape[0]}: --init-from starts a new run from it"
        )
    training = read_training_state(path)
    model.policy.optimizer.load_state_dict(training["optimizer"])
    if env.norm_obs:
        env.obs_rms.count = float(training["obs_count"])
    env.ret_rms.var = training["return_var"].numpy()
    return meta


def same_curriculum(meta: CheckpointMetadata, config: TrainConfig) -> bool:
    """Whether a checkpoint's curriculum state fits a run's curriculum: the same kind of levels
    (one for the batch, or one per env of a batch of the same size)."""
    recorded = meta.hyperparameters
    if recorded.get("per_env_levels", False) != config.per_env_levels:
        return False
    return not config.per_env_levels or recorded.get("num_envs") == config.num_envs


def resumed_noise(config: TrainConfig, recorded: CheckpointMetadata) -> float | None:
    """The log std a resumed run sets: one given with --resume, not the recorded one, which the
    run spent at its start."""
    given = config.log_std_init != recorded.hyperparameters.get("log_std_init")
    return config.log_std_init if given else None


def train(config: TrainConfig, resume: bool = False) -> CheckpointMetadata:
    """Train until `total_steps` env steps; return the final checkpoint's metadata."""
    run = RunFolder(config.out, config.env_id)
    run.claim(resume)
    if config.num_threads:  # the updates too: runs side by side must not oversubscribe cores
        torch.set_num_threads(config.num_threads)
    if config.init_from and not resume:
        # A fine-tune keeps the network it starts from, and trains with privileges only if
        # its checkpoint did: the privileges of a policy that never had them would start their
        # curriculum over and undo what it can do.
        source = read_metadata(config.init_from)
        config = dataclasses.replace(
            config,
            net_arch=source.net_arch,
            activation=source.activation,
            privileged=config.privileged and source.hyperparameters.get("privileged", True),
        )
    env, curriculum = make_training_env(config)
    model = make_model(config, env)
    if resume:
        meta = restore(run.latest, model, env, curriculum, config)
        started_from, noise = meta.started_from, resumed_noise(config, meta)
    elif config.init_from:
        meta = warm_start(config.init_from, model, env, curriculum, config)
        if config.total_steps <= meta.env_steps:
            env.close()
            raise ValueError(
                f"--total-steps {config.total_steps:,} leaves nothing to train: env steps count "
                f"on from {config.init_from}'s {meta.env_steps:,}"
            )
        started_from, noise = describe(config.init_from), config.log_std_init
    else:
        meta, started_from, noise = None, {}, None  # make_model set the initial noise
    done_steps, wall_offset = (meta.env_steps, meta.wall_seconds) if meta else (0, 0.0)
    if noise is not None:
        torch.nn.init.constant_(model.policy.log_std, noise)
    # The critic warms up over the first `critic_warmup` env steps after the run's start (a
    # fine-tune's, or a composed controller's, whose skills already act well), a resumed run
    # included.
    warmup_end = (started_from or {}).get("env_steps", 0) + config.critic_warmup
    callback = [
        CriticWarmup(warmup_end),
        EvaluateAndCheckpoint(config, run, env, curriculum, wall_offset, started_from),
    ]
    if config.randomize_ramp:  # from the run's start, as the critic's warmup
        ramp_start = (started_from or {}).get("env_steps", 0)
        callback.append(RandomizationRamp(env, ramp_start, config.randomize_ramp))
    model.learn(
        total_timesteps=max(config.total_steps - done_steps, 0),
        callback=callback,
        reset_num_timesteps=done_steps == 0,
        progress_bar=True,
    )
    env.close()
    return read_metadata(run.latest)


def success_history(out: Path) -> list[tuple[int, float]]:
    """(env steps, eval success rate) from a run's TensorBoard logs, one log per session of the
    run. A step evaluated twice (a session killed after evaluating but before checkpointing,
    then resumed) keeps the later session's value."""
    return scalar_series(out, ("eval/success_rate",)).get("eval/success_rate", [])


def scalar_series(
    path: str | Path, tags: tuple[str, ...] | None
) -> dict[str, list[tuple[int, float]]]:
    """(env step, value) of the named TensorBoard scalars (all of them for None) of a run,
    over its sessions, a later session's value winning at a step logged twice."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    def started(events: Path) -> tuple[float, float]:  # events.out.tfevents.<unix time>...
        return float(events.name.split(".")[3]), events.stat().st_mtime

    merged: dict[str, dict[int, float]] = defaultdict(dict)
    events = Path(path, "tensorboard").rglob("events.out.tfevents.*")
    for file in sorted(events, key=started):
        accumulator = EventAccumulator(str(file), size_guidance={"scalars": 0})
        accumulator.Reload()
        for tag in accumulator.Tags()["scalars"]:
            if tags is None or tag in tags:
                merged[tag] |= {e.step: e.value for e in accumulator.Scalars(tag)}
    return {tag: sorted(values.items()) for tag, values in merged.items()}
