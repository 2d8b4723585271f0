"""Walk: track a commanded planar velocity (vx, vy, yaw rate) in the pelvis frame."""

from __future__ import annotations

import dataclasses

import numpy as np

from skillgym.envs.frame import Array, Frame, uniform, xp_of
from skillgym.envs.privileges import NarrowCommands, PelvisHarness, Privilege, ReducedGravity
from skillgym.envs.task import EpisodeState
from skillgym.skills.humanoid import HumanoidSkill, HumanoidTaskConfig, humanoid_weights, tracking


@dataclasses.dataclass(frozen=True)
class WalkConfig(HumanoidTaskConfig):
    command_low: tuple[float, float, float] = (-0.5, -0.3, -0.5)  # vx, vy (m/s), yaw rate (rad/s)
    command_high: tuple[float, float, float] = (1.0, 0.3, 0.5)
    max_mean_velocity_error: float = 0.25  # m/s, for success
    # The humanoid help, plus commands nearer to standing still while tracking is poor.
    privileges: tuple[Privilege, ...] = (PelvisHarness(), ReducedGravity(), NarrowCommands())


class Walk(HumanoidSkill):
    name = "Walk"
    goal_size = 3
    goal_uniforms = 3
    metric_names = ("velocity_error", "yaw_rate_error")
    success_rule = "10 s without a fall, mean planar velocity error <= 0.25 m/s"

    @classmethod
    def default_config(cls) -> WalkConfig:
        return WalkConfig(
            episode_seconds=10.0,
            reward_weights=humanoid_weights(
                track_velocity=2.0, track_yaw_rate=1.0, vertical_motion=-0.5, posture=0.2
            ),
        )

    def sample_episode(self, u: Array, qpos: Array) -> tuple[Array, Array]:
        xp = xp_of(u)
        low, high = xp.asarray(self.config.command_low), xp.asarray(self.config.command_high)
        return qpos, uniform(u, low, high)

    def velocity_error_sq(self, frame: Frame, state: EpisodeState) -> Array:
        xp = xp_of(frame.qpos)
        return xp.sum((self.base_lin_vel(frame)[..., :2] - state.goal[..., :2]) ** 2, axis=-1)

    def yaw_rate_error(self, frame: Frame, state: EpisodeState) -> Array:
        return self.base_ang_vel(frame)[..., 2] - state.goal[..., 2]

    def skill_reward_terms(self) -> dict:
        return {
            "track_velocity": track_velocity,
            "track_yaw_rate": track_yaw_rate,
            "vertical_motion": vertical_motion,
        }

    def metrics(self, frame: Frame, state: EpisodeState) -> Array:
        xp = xp_of(frame.qpos)
        errors = [
            xp.sqrt(self.velocity_error_sq(frame, state)),
            xp.abs(self.yaw_rate_error(frame, state)),
        ]
        return xp.stack(errors, axis=-1)

    def reached(self, frame: Frame, state: EpisodeState) -> Array:
        return xp_of(frame.qpos).sqrt(self.velocity_error_sq(frame, state)) <= 0.25

    def success(self, state: EpisodeState) -> Array:
        mean_error = state.metric_sums[..., 0] / np.maximum(1, self.episode_steps)
        finished = state.steps >= self.episode_steps
        return finished & (mean_error <= self.config.max_mean_velocity_error)


def track_velocity(task: Walk, frame: Frame, state: EpisodeState, action: Array) -> Array:
    return tracking(task.velocity_error_sq(frame, state), 0.25)


def track_yaw_rate(task: Walk, frame: Frame, state: EpisodeState, action: Array) -> Array:
    return tracking(task.yaw_rate_error(frame, state) ** 2, 0.25)


def vertical_motion(task: Walk, frame: Frame, state: EpisodeState, action: Array) -> Array:
    xp = xp_of(frame.qpos)
    ang = task.base_ang_vel(frame)
    return task.base_lin_vel(frame)[..., 2] ** 2 + 0.05 * xp.sum(ang[..., :2] ** 2, axis=-1)
