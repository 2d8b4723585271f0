"""A high-level controller that composes frozen skills: the networks, for training and for use.

Every control step the high-level network reads the task's observation and outputs a head; the
`Composer` turns the head into each skill's goal and into weights over the skills, runs each
frozen skill on its own observation with its goal in its goal slot, and returns the robot action
`sum_k w_k[j] * pi_k(obs_k)[j]`. PPO's Gaussian is over that action, so gradients flow through
the frozen skill networks into the goals and the weights. The modes:

* `blend`: one weight per skill and joint, a softmax across skills for each joint (SkillBlender);
* `mcp`: one weight per skill, the same for every joint (scalar blending, as in MCP);
* `switch`: one skill at a time, the arg-max of one logit per skill (straight-through gradient);
* `scripted`: no learning: the decomposition's goals, and its phases where the task has them
  (`skill_phase/<Skill>` in the observation: which skill drives each joint now), else the whole
  body to Walk while its command moves, else to the skill with the most left to do.

Where the task has phases, a learned controller's logits start with a lead for the skill the
phases name on each joint (`PHASE_LEAD`); without, a lead for the first skill on every joint.

With `residual`, a goal is the decomposition's goal (`skill_goal/<Skill>` in the observation)
plus a learned offset of up to a quarter of the goal's trained range; without, the head sets it
anywhere in that range. A goal's range is its observation's mean +- 2 std in the skill
checkpoint's own statistics: what the skill saw in training, not the registered env's default.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
import torch
from stable_baselines3.common.distributions import Distribution
from stable_baselines3.common.policies import ActorCriticPolicy
from torch import nn

from skillgym.policies.actor import Actor, mlp_policy, policy_kwargs

MODES = ("blend", "mcp", "switch", "scripted")
GOAL_RANGE_STDS = 2.0  # a goal's range: its observation's mean +- this many std
RESIDUAL_FRACTION = 0.25  # a residual offset's reach, as a fraction of the goal's range
WALKING_COMMAND = 0.1  # m/s: the scripted controller walks while Walk's command is faster
# A new controller's logit lead of the first skill (Walk) on every joint: it starts by walking
# where the decomposition says (about 87% of the weight among four skills), not by averaging
# four skills into a fall.
FIRST_SKILL_LEAD = 3.0
# Where the task's decomposition has phases (which skill drives each joint now), the logit lead
# of that skill instead: a new controller starts where the phases are. 7 leaves the other skills
# 0.1% of a joint, which the arm's Lift needs (a blend with no learning on PushGraspLift, 100
# episodes: 0.00 at a lead of 3, 0.29 at 5, 0.67 at 7).
PHASE_LEAD = 7.0


class Composer(nn.Module):
    """Frozen skills and the rule that composes them from a head and the task's observation.

    `skills` are deterministic actors (observation in, robot action out) that do their own
    normalization; `slots[k]` lists skill k's observation terms as (term, start, size) in the
    task's observation, its goal first (the decomposition's goal lies there). `goal_low` and
    `goal_high` bound each skill's goal; a skill whose goal the task fixes (`fixed[k]`) gets the
    decomposition's. `phases[k]` is where the decomposition's weights for skill k lie, for a
    task that has phases.
    """

    def __init__(
        self,
        skills: list[nn.Module],
        names: list[str],
        slots: list[list[tuple[str, int, int]]],
        goal_low: list[np.ndarray],
        goal_high: list[np.ndarray],
        action_size: int,
        mode: str,
        residual: bool,
        phases: list[tuple[int, int]] | None = None,
        fixed: list[bool] | None = None,
    ) -> None:
        super().__init__()
        if mode not in MODES:
            raise ValueError(f"unknown controller mode {mode!r}; modes: {', '.join(MODES)}")
        self.skills = nn.ModuleList(skills).requires_grad_(False)
        self.names = list(names)
        self.mode, self.residual, self.action_size = mode, residual, action_size
        self.fixed = list(fixed) if fixed is not None else [False] * len(skills)
        # What the head outputs for each skill's goal: nothing for a goal the task fixes.
        self.goal_sizes = [
            0 if fix else slot[0][2] for slot, fix in zip(slots, self.fixed, strict=True)
        ]
        self.phased = phases is not None
        if self.phased:
            starts = [start for start, _ in phases]
            self.register_buffer(
                "phase_inputs", torch.as_tensor(starts)[:, None] + torch.arange(action_size)
            )
        for k, slot in enumerate(slots):
            if slot[0][0] != "goal":
                raise ValueError(f"{names[k]}: its observation must start with its goal")
            goal_start, goal_size = slot[0][1], slot[0][2]
            rest = [i for _, start, size in slot[1:] for i in range(start, start + size)]
            self.register_buffer(
                f"suggestion_{k}", torch.arange(goal_start, goal_start + goal_size)
            )
            self.register_buffer(f"inputs_{k}", torch.as_tensor(rest, dtype=torch.long))
            self.register_buffer(f"low_{k}", torch.as_tensor(goal_low[k], dtype=torch.float32))
            self.register_buffer(f"high_{k}", torch.as_tensor(goal_high[k], dtype=torch.float32))

    @property
    def head_size(self) -> int:
        """What the high-level network outputs: every goal, then the weights' logits."""
        skills = len(self.skills)
        logits = {"blend": skills * self.action_size, "mcp": skills, "switch": skills}
        return 0 if self.mode == "scripted" else sum(self.goal_sizes) + logits[self.mode]

    def first_skill_logits(self) -> slice:
        """Where the head holds the first skill's logits (none for the scripted mode, nor where
        the task's phases lead)."""
        start = sum(self.goal_sizes)
        if self.mode == "scripted" or self.phased:
            return slice(0, 0)
        return slice(start, start + (self.action_size if self.mode == "blend" else 1))

    def _buffers_of(self, k: int) -> tuple[torch.Tensor, ...]:
        return tuple(
            getattr(self, f"{name}_{k}") for name in ("suggestion", "inputs", "low", "high")
        )

    def goals(self, head: torch.Tensor, obs: torch.Tensor) -> list[torch.Tensor]:
        """Each skill's goal, within its range."""
        if self.mode != "scripted":
            offsets = head[..., : sum(self.goal_sizes)].split(self.goal_sizes, dim=-1)
        goals = []
        for k in range(len(self.skills)):
            suggestion, _, low, high = self._buffers_of(k)
            suggested = obs.index_select(-1, suggestion)
            if self.mode == "scripted" or self.fixed[k]:
                goals.append(torch.clamp(suggested, low, high))
            elif self.residual:
                reach = RESIDUAL_FRACTION * (high - low)
                goals.append(torch.clamp(suggested + reach * torch.tanh(offsets[k]), low, high))
            else:
                goals.append(low + (high - low) * 0.5 * (torch.tanh(offsets[k]) + 1.0))
        return goals

    def weights(self, head: torch.Tensor, obs: torch.Tensor) -> torch.Tensor:
        """Weights over the skills, (..., skills, joints or 1), summing to 1 over skills."""
        skills = len(self.skills)
        phases = obs[..., self.phase_inputs] if self.phased else None  # (..., skills, joints)
        if self.mode == "scripted":
            return phases if self.phased else self._scripted_weights(obs)[..., None]
        logits = head[..., sum(self.goal_sizes) :]
        if self.mode == "blend":
            logits = logits.unflatten(-1, (skills, self.action_size))
            if self.phased:
                logits = logits + PHASE_LEAD * phases
            return torch.softmax(logits, dim=-2)
        if self.phased:
            logits = logits + PHASE_LEAD * phases.mean(dim=-1)
        soft = torch.softmax(logits, dim=-1)
        if self.mode == "mcp":
            return soft[..., None]
        hard = nn.functional.one_hot(soft.argmax(-1), skills).to(soft.dtype)
        return (hard + soft - soft.detach())[..., None]  # straight through

    def _scripted_weights(self, obs: torch.Tensor) -> torch.Tensor:
        """One-hot: Walk while its suggested command moves faster than WALKING_COMMAND, else
        the skill whose suggested goal is furthest (in its range's units) from done."""
        if self.names[0] != "Walk":
            raise ValueError("the scripted controller's rule needs Walk as the first skill")
        walk = obs.index_select(-1, self._buffers_of(0)[0])
        walking = walk[..., :2].norm(dim=-1) > WALKING_COMMAND
        left = []
        for k in range(1, len(self.skills)):
            suggestion, _, low, high = self._buffers_of(k)
            left.append((obs.index_select(-1, suggestion) / (high - low)).norm(dim=-1))
        chosen = 1 + torch.stack(left, dim=-1).argmax(-1)
        chosen = torch.where(walking, torch.zeros_like(chosen), chosen)
        return nn.functional.one_hot(chosen, len(self.skills)).to(obs.dtype)

    def skill_actions(self, goals: list[torch.Tensor], obs: torch.Tensor) -> torch.Tensor:
        """Each skill's action for its goal, (..., skills, joints)."""
        actions = []
        for k, skill in enumerate(self.skills):
            inputs = obs.index_select(-1, self._buffers_of(k)[1])
            actions.append(skill(torch.cat([goals[k], inputs], dim=-1)))
        return torch.stack(actions, dim=-2)

    def forward(self, head: torch.Tensor, obs: torch.Tensor) -> torch.Tensor:
        """The robot action for a head and the task's raw observation."""
        actions = self.skill_actions(self.goals(head, obs), obs)
        return (self.weights(head, obs) * actions).sum(dim=-2)


class ComposedPolicy(ActorCriticPolicy):
    """SB3's actor-critic whose action mean is a `Composer`'s: the network reads the task's
    observation normalized with fixed statistics (the env hands it raw, for the skills), and
    its action head outputs the composer's head."""

    def __init__(
        self,
        observation_space: gym.spaces.Box,
        action_space: gym.spaces.Box,
        lr_schedule: Any,
        composer: Composer,
        obs_mean: np.ndarray,
        obs_var: np.ndarray,
        clip_obs: float = 10.0,
        **kwargs: Any,
    ) -> None:
        super().__init__(observation_space, action_space, lr_schedule, **kwargs)
        self.composer = composer
        self.clip_obs = clip_obs
        self.register_buffer("obs_mean", torch.as_tensor(obs_mean, dtype=torch.float32))
        self.register_buffer("obs_std", torch.sqrt(torch.as_tensor(obs_var) + 1e-8).float())
        head = max(composer.head_size, 1)  # a scripted controller's network outputs nothing used
        self.action_net = nn.Linear(self.mlp_extractor.latent_dim_pi, head)
        self.init_weights(self.action_net, gain=0.01)
        with torch.no_grad():
            self.action_net.bias[composer.first_skill_logits()] = FIRST_SKILL_LEAD
        self.optimizer = self.optimizer_class(
            [p for p in self.parameters() if p.requires_grad],
            lr=lr_schedule(1),
            **self.optimizer_kwargs,
        )

    def normalize(self, obs: torch.Tensor) -> torch.Tensor:
        x = (obs - self.obs_mean) / self.obs_std
        return torch.clamp(x, -self.clip_obs, self.clip_obs)

    def mean_action(self, obs: torch.Tensor) -> torch.Tensor:
        """The deterministic robot action for raw observations."""
        latent_pi = self.mlp_extractor.forward_actor(self.normalize(obs))
        return self.composer(self.action_net(latent_pi), obs)

    def _distribution(self, latent_pi: torch.Tensor, obs: torch.Tensor) -> Distribution:
        mean = self.composer(self.action_net(latent_pi), obs)
        return self.action_dist.proba_distribution(mean, self.log_std)

    def forward(
        self, obs: torch.Tensor, deterministic: bool = False
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        latent_pi, latent_vf = self.mlp_extractor(self.normalize(obs))
        distribution = self._distribution(latent_pi, obs)
        actions = distribution.get_actions(deterministic=deterministic)
        return actions, self.value_net(latent_vf), distribution.log_prob(actions)

    def evaluate_actions(
        self, obs: torch.Tensor, actions: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
        latent_pi, latent_vf = self.mlp_extractor(self.normalize(obs))
        distribution = self._distribution(latent_pi, obs)
        return self.value_net(latent_vf), distribution.log_prob(actions), distribution.entropy()

    def get_distribution(self, obs: torch.Tensor) -> Distribution:
        return self._distribution(self.mlp_extractor.forward_actor(self.normalize(obs)), obs)

    def predict_values(self, obs: torch.Tensor) -> torch.Tensor:
        return self.value_net(self.mlp_extractor.forward_critic(self.normalize(obs)))


class ComposedActor(Actor):
    """The deterministic actor of a composed controller: raw observation in, robot action out
    (the controller normalizes for its own network; each skill for its own)."""

    def __init__(self, policy: ComposedPolicy) -> None:
        super().__init__(
            policy,
            policy.obs_mean,
            policy.obs_std**2,
            policy.clip_obs,
            policy.action_space.shape[0],
        )

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        return torch.clamp(self.policy.mean_action(obs), -1.0, 1.0)


def skill_actors(records: list[dict[str, Any]]) -> list[Actor]:
    """Actors shaped as the recorded skills, their weights still to be loaded."""
    actors = []
    for record in records:
        size = record["obs_size"]
        policy = mlp_policy(size, record["action_size"], record["net_arch"], record["activation"])
        actors.append(
            Actor(policy, np.zeros(size), np.ones(size), record["clip_obs"], record["action_size"])
        )
    return actors


def make_composer(
    controller: dict[str, Any], skills: list[nn.Module], action_size: int
) -> Composer:
    """The composer a controller record describes, driving `skills`."""
    records = controller["skills"]
    composer = Composer(
        skills,
        [record["name"] for record in records],
        [[tuple(slot) for slot in record["slots"]] for record in records],
        [np.asarray(record["goal_low"]) for record in records],
        [np.asarray(record["goal_high"]) for record in records],
        action_size,
        controller["mode"],
        controller["residual"],
        [tuple(record["phase"]) for record in records] if "phase" in records[0] else None,
        [record.get("goal_fixed", False) for record in records],
    )
    composer.record = controller  # what a checkpoint records of it
    return composer


def composed_policy(
    controller: dict[str, Any],
    obs_size: int,
    action_size: int,
    net_arch: list[int],
    activation: str,
    clip_obs: float,
    lr: float = 3e-4,
) -> ComposedPolicy:
    """A composed controller's network as its record describes it, weights still to be loaded
    (the skills' included)."""
    composer = make_composer(controller, skill_actors(controller["skills"]), action_size)
    return ComposedPolicy(
        gym.spaces.Box(-np.inf, np.inf, (obs_size,), np.float32),
        gym.spaces.Box(-1.0, 1.0, (action_size,), np.float32),
        lambda _: lr,
        composer=composer,
        obs_mean=np.zeros(obs_size),
        obs_var=np.ones(obs_size),
        clip_obs=clip_obs,
        **policy_kwargs(net_arch, activation),
    )
