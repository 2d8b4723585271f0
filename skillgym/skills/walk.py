"""Walk: track a commanded planar velocity (vx, vy, yaw rate) in the pelvis frame."""

from __future__ import annotations

import dataclasses

import numpy as np

from skillgym.core.arrays import Array, uniform, xp_of
from skillgym.core.privileges import NarrowCommands, PelvisHarness, Privilege, ReducedGravity
from skillgym.core.rewards import tracking
from skillgym.core.snapshot import Snapshot
from skillgym.core.task import EpisodeState
from skillgym.skills.humanoid import HumanoidSkill, HumanoidTaskConfig, humanoid_weights


@dataclasses.dataclass(frozen=True)
class WalkConfig(HumanoidTaskConfig):
    command_low: tuple[float, float, float] = (-0.5, -0.3, -0.5)  # vx, vy (m/s), yaw rate (rad/s)
    command_high: tuple[float, float, float] = (1.0, 0.3, 0.5)
    max_mean_velocity_error: float = 0.25  # m/s, for success
    velocity_tolerance: float = 0.25  # m/s, planar velocity error at a step that counts as met
    velocity_sigma: float = 0.25  # (m/s)^2, of exp(-error^2 / sigma) in `track_velocity`
    yaw_rate_sigma: float = 0.25  # (rad/s)^2, of exp(-error^2 / sigma) in `track_yaw_rate`
    tilt_rate_weight: float = 0.05  # m^2/rad^2: roll and pitch rates' part in `vertical_motion`
    # Swings of a foot that count as steps, in seconds off the ground; see `feet_air_time`.
    air_time_range: tuple[float, float] = (0.2, 0.5)
    min_walking_command: float = 0.1  # m/s; below it, standing still is the gait
    # The humanoid help, plus commands nearer to standing still while tracking is poor.
    privileges: tuple[Privilege, ...] = (PelvisHarness(), ReducedGravity(), NarrowCommands())


class Walk(HumanoidSkill):
    name = "Walk"
    config: WalkConfig
    goal_size = 3
    goal_uniforms = 3
    memory_size = 2  # seconds each foot (left, right) has been off the ground
    metric_names = ("velocity_error", "yaw_rate_error")
    success_rule = "10 s without a fall, mean planar velocity error <= 0.25 m/s"

    @classmethod
    def default_config(cls) -> WalkConfig:
        return WalkConfig(
            episode_seconds=10.0,
            reward_weights=humanoid_weights(
                track_velocity=2.0,
                track_yaw_rate=1.0,
                vertical_motion=-0.5,
                posture=0.2,
                feet_air_time=1.0,
            ),
        )

    def sample_episode(self, u: Array, qpos: Array) -> tuple[Array, Array]:
        xp = xp_of(u)
        low, high = xp.asarray(self.config.command_low), xp.asarray(self.config.command_high)
        return qpos, uniform(u, low, high)

    def estimated_state(self, snap: Snapshot) -> list[Array]:
        """The base velocity the command is tracked against (on hardware, an estimate)."""
        return [self.base_lin_vel(snap)]

    def velocity_error_sq(self, snap: Snapshot, state: EpisodeState) -> Array:
        xp = xp_of(snap.qpos)
        return xp.sum((self.base_lin_vel(snap)[..., :2] - state.goal[..., :2]) ** 2, axis=-1)

    def yaw_rate_error(self, snap: Snapshot, state: EpisodeState) -> Array:
        return self.base_ang_vel(snap)[..., 2] - state.goal[..., 2]

    def update_memory(self, snap: Snapshot, state: EpisodeState) -> Array:
        return self.air_time(snap, state.memory)

    def skill_reward_terms(self) -> dict:
        return {
            "track_velocity": track_velocity,
            "track_yaw_rate": track_yaw_rate,
            "vertical_motion": vertical_motion,
            "feet_air_time": feet_air_time,
        }

    def metrics(self, snap: Snapshot, state: EpisodeState) -> Array:
        xp = xp_of(snap.qpos)
        errors = [
            xp.sqrt(self.velocity_error_sq(snap, state)),
            xp.abs(self.yaw_rate_error(snap, state)),
        ]
        return xp.stack(errors, axis=-1)

    def reached(self, snap: Snapshot, state: EpisodeState) -> Array:
        error = xp_of(snap.qpos).sqrt(self.velocity_error_sq(snap, state))
        return error <= self.config.velocity_tolerance

    def success(self, state: EpisodeState) -> Array:
        mean_error = state.metric_sums[..., 0] / np.maximum(1, self.episode_steps)
        finished = state.steps >= self.episode_steps
        return finished & (mean_error <= self.config.max_mean_velocity_error)


def track_velocity(task: Walk, snap: Snapshot, state: EpisodeState, action: Array) -> Array:
    return tracking(task.velocity_error_sq(snap, state), task.config.velocity_sigma)


def track_yaw_rate(task: Walk, snap: Snapshot, state: EpisodeState, action: Array) -> Array:
    return tracking(task.yaw_rate_error(snap, state) ** 2, task.config.yaw_rate_sigma)


def vertical_motion(task: Walk, snap: Snapshot, state: EpisodeState, action: Array) -> Array:
    xp = xp_of(snap.qpos)
    ang = task.base_ang_vel(snap)
    tilt_rates = xp.sum(ang[..., :2] ** 2, axis=-1)
    return task.base_lin_vel(snap)[..., 2] ** 2 + task.config.tilt_rate_weight * tilt_rates


def feet_air_time(task: Walk, snap: Snapshot, state: EpisodeState, action: Array) -> Array:
    """At each touchdown onto a standing foot's support, the swing's air time (capped) minus
    the shortest that counts as a step, while a walking command is given: strides pay,
    shuffling and tapping cost, and a standing robot earns nothing. Without it, standing still
    is a safe local optimum. Only swings of one foot while the other stands count, so hopping,
    or hanging in a training harness with both feet up, earns nothing. Paid as a rate (over
    one control step), so the weight prices a second of stride."""
    xp = xp_of(snap.qpos)
    shortest, longest = task.config.air_time_range
    swing = state.memory + task.dt
    touchdown = task.step_touchdown(snap, state.memory)
    paid = xp.sum(xp.where(touchdown, xp.clip(swing, 0.0, longest) - shortest, 0.0), axis=-1)
    walking = xp.sum(state.goal[..., :2] ** 2, axis=-1) > task.config.min_walking_command**2
    return xp.where(walking, paid / task.dt, 0.0)
