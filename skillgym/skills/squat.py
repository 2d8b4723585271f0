"""Squat: bring the pelvis to a target height and hold it there."""

from __future__ import annotations

import dataclasses

import mujoco
import numpy as np

from skillgym.core.arrays import Array, uniform, xp_of
from skillgym.core.rewards import tracking
from skillgym.core.snapshot import Snapshot
from skillgym.core.task import EpisodeState
from skillgym.skills.humanoid import HumanoidSkill, HumanoidTaskConfig, humanoid_weights


@dataclasses.dataclass(frozen=True)
class SquatConfig(HumanoidTaskConfig):
    tolerance: float = 0.03  # m, pelvis height error for success
    # m; targets lie at least this far below the robot's standing height, so standing in the
    # default pose (which holds the pelvis within 2 cm of it) never meets one.
    min_depth: float = 0.1
    height_sigma: float = 0.005  # m^2, of exp(-error^2 / sigma) in `track_height`


class Squat(HumanoidSkill):
    name = "Squat"
    goal_size = 1
    goal_layout = (("pelvis_height", "m"),)
    goal_uniforms = 1
    metric_names = ("height_error",)
    success_rule = (
        "pelvis within 3 cm of its target height (>= 10 cm below standing) for 0.5 s, no fall"
    )
    config: SquatConfig

    @classmethod
    def default_config(cls) -> SquatConfig:
        return SquatConfig(
            episode_seconds=4.0,
            reward_weights=humanoid_weights(track_height=3.0, posture=0.0),
        )

    def sample_episode(self, u: Array, qpos: Array) -> tuple[Array, Array]:
        """A target uniform in the robot's squat range, up to `min_depth` below standing."""
        low, high = self.robot.squat_height_range
        return qpos, uniform(u, low, min(high, self.robot.standing_height - self.config.min_depth))

    def height_error(self, snap: Snapshot, state: EpisodeState) -> Array:
        return self.base_height(snap) - state.goal[..., 0]

    def goal_observation(self, snap: Snapshot, state: EpisodeState) -> Array:
        return -self.height_error(snap, state)[..., None]

    def skill_reward_terms(self) -> dict:
        return {"track_height": track_height}

    def metrics(self, snap: Snapshot, state: EpisodeState) -> Array:
        return xp_of(snap.qpos).abs(self.height_error(snap, state))[..., None]

    def reached(self, snap: Snapshot, state: EpisodeState) -> Array:
        return xp_of(snap.qpos).abs(self.height_error(snap, state)) <= self.config.tolerance

    def markers(self, data: mujoco.MjData, state: EpisodeState) -> np.ndarray:
        pelvis = data.site_xpos[self.pelvis].copy()
        pelvis[2] = float(state.goal[0])
        return pelvis[None]


def track_height(task: Squat, snap: Snapshot, state: EpisodeState, action: Array) -> Array:
    return tracking(task.height_error(snap, state) ** 2, task.config.height_sigma)
