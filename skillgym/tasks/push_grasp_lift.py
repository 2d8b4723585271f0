"""PushGraspLift (arm): bring the flat 15 x 10 x 6 cm box to a goal in the air above the table.

Lying flat the box is wider than the gripper opens (8 cm), so a top grasp fails: the box has to
be pushed until it overhangs a table edge, grasped from the side, then lifted to the goal.
"""

from __future__ import annotations

import dataclasses

import mujoco
import numpy as np

from skillgym.core.arrays import Array, norm, uniform, xp_of
from skillgym.core.privileges import Privilege
from skillgym.core.rewards import distance_reward, goal_reached
from skillgym.core.snapshot import Snapshot
from skillgym.core.task import EpisodeState
from skillgym.skills.arm import OBJECT_PRIVILEGES, ArmTaskConfig, arm_weights, reach_object
from skillgym.skills.lift import HALF_HEIGHTS
from skillgym.tasks.base import ArmBenchTask

FLAT_HALF_HEIGHT = HALF_HEIGHTS["box_flat"]


@dataclasses.dataclass(frozen=True)
class FlatBoxConfig(ArmTaskConfig):
    box_low: tuple[float, float] = (-0.1, -0.2)  # m, xy where the box starts
    box_high: tuple[float, float] = (0.2, 0.2)
    lift_range: tuple[float, float] = (0.1, 0.2)  # m, goal height above the box's resting height
    tolerance: float = 0.03  # m, box centre from its goal
    goal_scale: float = 0.1  # m, of 1 - tanh(d / scale) in `box_to_goal`
    # Training help, as for arm Push and Lift: a gated push on the box, and a robot table
    # below the real one.
    privileges: tuple[Privilege, ...] = OBJECT_PRIVILEGES


def flat_box_weights() -> dict[str, float]:
    """Reward weights of the flat-box tasks: reach, lift, then bring the box to its goal."""
    return arm_weights(reach_object=1.0, lift_box=2.0, box_to_goal=3.0, goal_reached=2.0)


class PushGraspLift(ArmBenchTask):
    name = "PushGraspLift"
    objects = (("box", "box_flat"),)
    goal_size = 3  # world xyz of the box centre's goal
    goal_uniforms = 6
    metric_names = ("box_goal_error",)
    success_rule = "flat box (not graspable lying flat) within 3 cm of a goal in the air for 0.5 s"
    config: FlatBoxConfig

    @classmethod
    def default_config(cls) -> FlatBoxConfig:
        return FlatBoxConfig(episode_seconds=12.0, reward_weights=flat_box_weights())

    def bind(self, model: mujoco.MjModel) -> None:
        super().bind(model)
        self.center = model.site("box/center").id
        self.rest_z = self.robot.table_height + FLAT_HALF_HEIGHT

    def sample_episode(self, u: Array, qpos: Array) -> tuple[Array, Array]:
        xp = xp_of(u)
        low, high = xp.asarray(self.config.box_low), xp.asarray(self.config.box_high)
        box_xy = uniform(u[..., 0:2], low, high)
        z = xp.full(box_xy.shape[:-1] + (1,), self.rest_z + 1e-3)
        qpos = self.place_object(qpos, 0, xp.concat([box_xy, z], axis=-1), 2 * np.pi * u[..., 2])
        goal_z = self.rest_z + uniform(u[..., 5:6], *self.config.lift_range)
        return qpos, xp.concat([self.table_xy(u[..., 3:5]), goal_z], axis=-1)

    def error(self, snap: Snapshot, state: EpisodeState) -> Array:
        return norm(state.goal - self.object_pos(snap))

    def goal_observation(self, snap: Snapshot, state: EpisodeState) -> Array:
        return state.goal - self.object_pos(snap)

    def object_observation(self, snap: Snapshot, state: EpisodeState) -> Array:
        xp = xp_of(snap.xpos)
        to_box = self.object_pos(snap) - self.grip_pos(snap)
        return xp.concat([to_box, snap.site_xmat[..., self.center, :]], axis=-1)

    def skill_reward_terms(self) -> dict:
        return {
            "reach_object": reach_object,
            "lift_box": lift_box,
            "box_to_goal": box_to_goal,
            "goal_reached": goal_reached,
        }

    def skill_goals(self, snap: Snapshot, state: EpisodeState) -> dict[str, Array]:
        """Lift the box; Reach for it, and once it is held, take the gripper where it puts the
        box on the goal."""
        xp = xp_of(snap.xpos)
        box, grip = self.object_pos(snap), self.grip_pos(snap)
        carry = state.goal + grip - box
        return {
            "Lift": self.lift_goal(snap),
            "Reach": xp.where(self.held(snap, state)[..., None], carry, box),
        }

    def markers(self, data: mujoco.MjData, state: EpisodeState) -> np.ndarray:
        return np.asarray(state.goal)[None]


def lift_box(task: PushGraspLift, snap: Snapshot, state: EpisodeState, action: Array) -> Array:
    """How far the box is off the table, as a fraction of the goal's height above it."""
    xp = xp_of(snap.xpos)
    height = task.object_pos(snap)[..., 2] - task.rest_z
    return xp.clip(height / (state.goal[..., 2] - task.rest_z), 0.0, 1.0)


def box_to_goal(task: PushGraspLift, snap: Snapshot, state: EpisodeState, action: Array) -> Array:
    return distance_reward(task.error(snap, state), task.config.goal_scale)
