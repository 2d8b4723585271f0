"""Step: place both feet on floor targets around their default positions."""

from __future__ import annotations

import dataclasses

from skillgym.core.arrays import Array, norm, xp_of
from skillgym.core.snapshot import Snapshot
from skillgym.core.task import EpisodeState
from skillgym.skills.humanoid import humanoid_weights, velocity_and_contacts
from skillgym.skills.site_targets import SiteTargets, SiteTargetsConfig


@dataclasses.dataclass(frozen=True)
class StepConfig(SiteTargetsConfig):
    # m; the farther foot target lies at least this far from its foot's default spot, so
    # standing where the episode starts meets no goal.
    min_target_distance: float = 0.1


class Step(SiteTargets):
    name = "Step"
    fixed_in_world = True
    dims = 2
    goal_size = 4
    # Footholds on the floor, from where the pelvis starts.
    goal_layout = tuple((f"{side}_foot_{axis}", "m") for side in ("left", "right") for axis in "xy")
    goal_uniforms = 4
    # Per foot (left, right): seconds off the ground, then the nearest to its target it has
    # landed (or started).
    memory_size = 4
    metric_names = ("foot_error",)
    success_rule = (
        "both feet on the ground within 5 cm of their targets (one >= 10 cm from its start) "
        "for 0.5 s, no fall"
    )
    config: StepConfig

    @classmethod
    def default_config(cls) -> StepConfig:
        return StepConfig(
            episode_seconds=4.0,
            reward_weights=humanoid_weights(
                track_targets=3.0, hold_targets=3.0, posture=0.1, step_progress=10.0
            ),
        )

    @property
    def target_sites(self) -> tuple[str, str]:
        return self.robot.foot_sites

    def sample_episode(self, u: Array, qpos: Array) -> tuple[Array, Array]:
        """SiteTargets' targets, their offsets from the feet's default spots scaled up where
        needed so that the farther lies `min_target_distance` away; while that is under the
        half-size of the cube they are drawn from, they stay inside it."""
        xp = xp_of(u)
        qpos, targets = super().sample_episode(u, qpos)
        home = xp.asarray(self.home_targets)
        offsets = xp.reshape(targets - home, targets.shape[:-1] + (2, self.dims))
        farther = xp.max(norm(offsets), axis=-1, keepdims=True)
        scale = xp.maximum(1.0, self.config.min_target_distance / xp.maximum(farther, 1e-9))
        return qpos, home + scale * (targets - home)

    def placed(self, snap: Snapshot) -> Array:
        """Both feet on the ground: the distances are horizontal, and a foot held over its
        target is not placed on it, so neither success nor `hold_targets` counts it."""
        return xp_of(snap.qpos).all(self.foot_contact(snap), axis=-1)

    def estimated_terms(self, snap: Snapshot) -> dict[str, Array]:
        """The base velocity (on hardware, an estimate) and which feet stand (foot switches):
        whether the body is still moving and which foot is free to lift decide when a step
        is safe, and the joint readings give neither directly."""
        return velocity_and_contacts(self, snap)

    def update_memory(self, snap: Snapshot, state: EpisodeState) -> Array:
        xp = xp_of(snap.qpos)
        air, nearest = state.memory[..., :2], state.memory[..., 2:]
        distances = self.distances(snap, state)
        landed = self.step_touchdown(snap, air)
        nearest = xp.where(landed, xp.minimum(nearest, distances), nearest)
        nearest = xp.where(nearest == 0.0, distances, nearest)  # 0: the episode's start
        return xp.concat([self.air_time(snap, air), nearest], axis=-1)

    def skill_reward_terms(self) -> dict:
        return {**super().skill_reward_terms(), "step_progress": step_progress}


def step_progress(task: Step, snap: Snapshot, state: EpisodeState, action: Array) -> Array:
    """At each step's landing, how much nearer its target the foot is than at any landing
    before (or the start). The distance terms alone pay a foot for every centimetre it gets
    nearer, but only after the risky part of a step (unloading and lifting the foot) is done,
    so standing still is a safe local optimum; this prices the whole step at its landing. The
    payments of an episode add up to the distance closed, so no way of stepping earns more,
    and landing farther costs nothing here, so no foot learns to stay up rather than land.
    Paid as a rate (over one control step), so the weight prices a metre of progress."""
    xp = xp_of(snap.qpos)
    nearest = state.memory[..., 2:]
    landed = task.step_touchdown(snap, state.memory[..., :2]) & (nearest > 0.0)
    gained = xp.where(landed, xp.clip(nearest - task.distances(snap, state), 0.0, None), 0.0)
    return xp.sum(gained, axis=-1) / task.dt
