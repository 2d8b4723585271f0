"""Arm Push: slide a small box across the table to a goal."""

from __future__ import annotations

import dataclasses

import mujoco
import numpy as np

from skillgym.core.arrays import Array, norm, xp_of
from skillgym.core.privileges import Privilege
from skillgym.core.rewards import distance_reward, goal_reached
from skillgym.core.snapshot import Snapshot
from skillgym.core.task import EpisodeState
from skillgym.skills.arm import (
    OBJECT_PRIVILEGES,
    ArmSkill,
    ArmTaskConfig,
    arm_weights,
    reach_object,
)

BOX_HALF_HEIGHT = 0.025


@dataclasses.dataclass(frozen=True)
class PushConfig(ArmTaskConfig):
    # m from the box's start. The table region is at least twice the near end wide along each
    # axis, which `sample_episode` needs to keep every goal that far.
    goal_distance: tuple[float, float] = (0.1, 0.2)
    tolerance: float = 0.03  # m, for success
    goal_scale: float = 0.1  # m, of 1 - tanh(d / scale) in `object_to_goal`
    privileges: tuple[Privilege, ...] = OBJECT_PRIVILEGES


class Push(ArmSkill):
    name = "Push"
    objects = (("box", "box_small"),)
    goal_size = 2
    goal_layout = (("object_x", "m"), ("object_y", "m"))  # on the table, in the world
    goal_uniforms = 5
    metric_names = ("object_error",)
    success_rule = "box within 3 cm of its goal (0.1 to 0.2 m from its start) for 0.5 s"
    config: PushConfig

    @classmethod
    def default_config(cls) -> PushConfig:
        return PushConfig(
            episode_seconds=6.0,
            reward_weights=arm_weights(reach_object=1.0, object_to_goal=3.0, goal_reached=2.0),
        )

    def sample_episode(self, u: Array, qpos: Array) -> tuple[Array, Array]:
        """The box anywhere in the table region, turned at random; the goal `goal_distance`
        from it in a random direction. Along an axis where that leaves the region, the offset
        points towards the region's middle instead, where there is room for half the region's
        width, and what still overshoots is clipped: the goal stays `goal_distance[0]` away or
        farther."""
        xp = xp_of(u)
        box_xy = self.table_xy(u[..., 0:2])
        z = xp.full(box_xy.shape[:-1] + (1,), self.robot.table_height + BOX_HALF_HEIGHT + 1e-3)
        qpos = self.place_object(qpos, 0, xp.concat([box_xy, z], axis=-1), 2 * np.pi * u[..., 2])
        near, far = self.config.goal_distance
        radius = near + (far - near) * u[..., 3]
        angle = 2 * np.pi * u[..., 4]
        offset = xp.stack([radius * xp.cos(angle), radius * xp.sin(angle)], axis=-1)
        low, high = (
            xp.asarray(self.robot.table_region_low),
            xp.asarray(self.robot.table_region_high),
        )
        leaves = (box_xy + offset < low) | (box_xy + offset > high)
        inwards = xp.where(box_xy < (low + high) / 2, 1.0, -1.0) * xp.abs(offset)
        goal = xp.clip(box_xy + xp.where(leaves, inwards, offset), low, high)
        return qpos, goal

    def object_error(self, snap: Snapshot, state: EpisodeState) -> Array:
        return norm(state.goal - self.object_pos(snap)[..., :2])

    def goal_observation(self, snap: Snapshot, state: EpisodeState) -> Array:
        return state.goal - self.object_pos(snap)[..., :2]

    def object_observation(self, snap: Snapshot, state: EpisodeState) -> Array:
        return self.object_pos(snap) - self.grip_pos(snap)

    def skill_reward_terms(self) -> dict:
        return {
            "reach_object": reach_object,
            "object_to_goal": object_to_goal,
            "goal_reached": goal_reached,
        }

    def metrics(self, snap: Snapshot, state: EpisodeState) -> Array:
        return self.object_error(snap, state)[..., None]

    def reached(self, snap: Snapshot, state: EpisodeState) -> Array:
        return self.object_error(snap, state) <= self.config.tolerance

    def markers(self, data: mujoco.MjData, state: EpisodeState) -> np.ndarray:
        return np.array([[*np.asarray(state.goal), self.robot.table_height + 0.005]])


def object_to_goal(task: Push, snap: Snapshot, state: EpisodeState, action: Array) -> Array:
    return distance_reward(task.object_error(snap, state), task.config.goal_scale)
