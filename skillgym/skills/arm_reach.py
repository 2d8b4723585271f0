"""Arm Reach: bring the gripper's tool point to a target in the workspace."""

from __future__ import annotations

import dataclasses

import mujoco
import numpy as np

from skillgym.core.arrays import Array, norm, uniform, xp_of
from skillgym.core.rewards import distance_reward, goal_reached
from skillgym.core.snapshot import Snapshot
from skillgym.core.task import EpisodeState
from skillgym.skills.arm import ArmSkill, ArmTaskConfig, arm_weights


@dataclasses.dataclass(frozen=True)
class ArmReachConfig(ArmTaskConfig):
    tolerance: float = 0.02  # m, tool point from the target, for success


class ArmReach(ArmSkill):
    name = "Reach"
    goal_size = 3
    goal_layout = (("grip_x", "m"), ("grip_y", "m"), ("grip_z", "m"))  # in the world
    goal_uniforms = 3
    metric_names = ("grip_error",)
    success_rule = "gripper tool point within 2 cm of the target for 0.5 s"
    config: ArmReachConfig

    @classmethod
    def default_config(cls) -> ArmReachConfig:
        return ArmReachConfig(
            episode_seconds=3.0, reward_weights=arm_weights(reach_target=2.0, goal_reached=1.0)
        )

    def sample_episode(self, u: Array, qpos: Array) -> tuple[Array, Array]:
        xp = xp_of(u)
        low, high = xp.asarray(self.robot.workspace_low), xp.asarray(self.robot.workspace_high)
        return qpos, uniform(u, low, high)

    def distance(self, snap: Snapshot, state: EpisodeState) -> Array:
        return norm(state.goal - self.grip_pos(snap))

    def goal_observation(self, snap: Snapshot, state: EpisodeState) -> Array:
        return state.goal - self.grip_pos(snap)

    def skill_reward_terms(self) -> dict:
        return {"reach_target": reach_target, "goal_reached": goal_reached}

    def metrics(self, snap: Snapshot, state: EpisodeState) -> Array:
        return self.distance(snap, state)[..., None]

    def reached(self, snap: Snapshot, state: EpisodeState) -> Array:
        return self.distance(snap, state) <= self.config.tolerance

    def markers(self, data: mujoco.MjData, state: EpisodeState) -> np.ndarray:
        return np.asarray(state.goal)[None]


def reach_target(task: ArmReach, snap: Snapshot, state: EpisodeState, action: Array) -> Array:
    return distance_reward(task.distance(snap, state), task.config.reach_scale)
