"""Walk: track a commanded planar velocity (vx, vy, yaw rate) in the pelvis frame.

Every command moves: its planar speed is at least `WalkConfig.min_command_speed`, so standing
still never tracks it. Success needs the planar velocity tracked at every step on average and
the heading turned at the commanded rate over the episode.
"""

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
    # m/s; every command's planar speed is at least this: vx is drawn from the parts of its range
    # that, with the command's vy, reach it.
    min_command_speed: float = 0.3
    max_mean_velocity_error: float = 0.25  # m/s, the mean over the episode's steps, for success
    # rad/s, for success: the episode's mean yaw rate (its heading change over its length) from
    # the commanded one. The mean of the signed error, since the pelvis sways in yaw with every
    # stride and the rate's step-by-step error measures that sway as much as the turning.
    max_mean_yaw_rate_error: float = 0.1
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
    # Seconds each foot (left, right) has been off the ground, then the heading error so far:
    # the yaw-rate error integrated over the episode (rad).
    memory_size = 3
    metric_names = ("velocity_error", "yaw_rate_error")
    success_rule = (
        "10 s without a fall, mean planar velocity error <= 0.25 m/s and mean yaw rate within "
        "0.1 rad/s of the command (commands of >= 0.3 m/s)"
    )

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
        """vy and the yaw rate uniform in their ranges; vx uniform over the parts of its range
        where the planar speed is at least `min_command_speed`: [low, -gap] and [gap, high],
        `gap` being what vy leaves of that speed."""
        xp = xp_of(u)
        (x_low, y_low, yaw_low), (x_high, y_high, yaw_high) = (
            self.config.command_low,
            self.config.command_high,
        )
        vy = uniform(u[..., 1], y_low, y_high)
        gap = xp.sqrt(xp.clip(self.config.min_command_speed**2 - vy**2, 0.0, None))
        backward = xp.clip(xp.minimum(-gap, x_high) - x_low, 0.0, None)  # length of [low, -gap]
        forward_start = xp.maximum(gap, x_low)
        forward = xp.clip(x_high - forward_start, 0.0, None)  # length of [gap, high]
        t = u[..., 0] * (backward + forward)
        vx = xp.where(t < backward, x_low + t, forward_start + (t - backward))
        yaw_rate = uniform(u[..., 2], yaw_low, yaw_high)
        return qpos, xp.stack([vx, vy, yaw_rate], axis=-1)

    def estimated_state(self, snap: Snapshot) -> list[Array]:
        """The base velocity the command is tracked against (on hardware, an estimate)."""
        return [self.base_lin_vel(snap)]

    def velocity_error_sq(self, snap: Snapshot, state: EpisodeState) -> Array:
        xp = xp_of(snap.qpos)
        return xp.sum((self.base_lin_vel(snap)[..., :2] - state.goal[..., :2]) ** 2, axis=-1)

    def yaw_rate_error(self, snap: Snapshot, state: EpisodeState) -> Array:
        return self.base_ang_vel(snap)[..., 2] - state.goal[..., 2]

    def update_memory(self, snap: Snapshot, state: EpisodeState) -> Array:
        xp = xp_of(snap.qpos)
        heading_error = (
            state.memory[..., 2:3] + self.dt * self.yaw_rate_error(snap, state)[..., None]
        )
        return xp.concat([self.air_time(snap, state.memory[..., :2]), heading_error], axis=-1)

    def walking(self, state: EpisodeState) -> Array:
        """Whether the command asks for a gait: planar speed above `min_walking_command`."""
        xp = xp_of(state.goal)
        return xp.sum(state.goal[..., :2] ** 2, axis=-1) > self.config.min_walking_command**2

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
        """The whole episode walked: its mean planar velocity error and its mean yaw-rate error
        (heading error over its length) within their bounds. A command to stand still (which
        the default commands never are) is no walk, so it is never a success."""
        xp = xp_of(state.goal)
        mean_error = state.metric_sums[..., 0] / np.maximum(1, self.episode_steps)
        mean_yaw_rate_error = xp.abs(state.memory[..., 2]) / (self.episode_steps * self.dt)
        finished = state.steps >= self.episode_steps
        tracked = (mean_error <= self.config.max_mean_velocity_error) & (
            mean_yaw_rate_error <= self.config.max_mean_yaw_rate_error
        )
        return finished & tracked & self.walking(state)


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
    air = state.memory[..., :2]
    swing = air + task.dt
    touchdown = task.step_touchdown(snap, air)
    paid = xp.sum(xp.where(touchdown, xp.clip(swing, 0.0, longest) - shortest, 0.0), axis=-1)
    return xp.where(task.walking(state), paid / task.dt, 0.0)
