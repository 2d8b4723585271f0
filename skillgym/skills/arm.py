"""What every arm skill shares: the table scene, proprioception, objects on the table."""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar

import mujoco
import numpy as np

from skillgym.core.arrays import Array, free_pose, norm, put_free_pose, uniform, xp_of
from skillgym.core.privileges import ObjectForce, Privilege, TableOffset
from skillgym.core.rewards import action_rate, distance_reward, joint_vel
from skillgym.core.robots import ArmConfig
from skillgym.core.snapshot import Snapshot
from skillgym.core.task import EpisodeState, Task, TaskConfig

JOINT_VEL_SCALE = 0.1

# Training help for skills that move objects: a gated push on the object, and a robot table
# below the real one.
OBJECT_PRIVILEGES: tuple[Privilege, ...] = (ObjectForce(), TableOffset())


@dataclasses.dataclass(frozen=True)
class ArmTaskConfig(TaskConfig):
    reset_joint_noise: float = 0.1
    # m; the pull towards the gripper's target or object, 1 - tanh(d / reach_scale), halves at
    # about half this distance.
    reach_scale: float = 0.3
    drop_depth: float = 0.1  # m below the table top: an object there is off the table


def arm_weights(**task_terms: float) -> dict[str, float]:
    """Shared effort weights plus a skill's own terms."""
    return {"action_rate": -0.05, "joint_vel": -1e-3, **task_terms}


class ArmSkill(Task):
    """Base of the arm skills. `objects` names the free props the skill puts on the table."""

    robot_kind: ClassVar[str] = "arm"
    objects: ClassVar[tuple[tuple[str, str], ...]] = ()  # (instance name, prop)
    robot: ArmConfig
    config: ArmTaskConfig

    def build_spec(self) -> mujoco.MjSpec:
        from skillgym.assets import add_prop

        spec = super().build_spec()
        for i, (name, prop) in enumerate(self.objects):
            add_prop(spec, prop, name, pos=(0.0, 1.0 + 0.3 * i, 0.05))
        return spec

    def bind(self, model: mujoco.MjModel) -> None:
        super().bind(model)
        self.grip = model.site(self.robot.grip_site).id
        self.finger = self.sensor_slice(model, self.robot.finger_sensor)
        self.object_body = [model.body(f"{name}/{prop}").id for name, prop in self.objects]
        self.object_qpos = [
            model.jnt_qposadr[model.body(body).jntadr[0]] for body in self.object_body
        ]
        self.workspace_center = (np.array(self.robot.workspace_low) + self.robot.workspace_high) / 2

    # ---- quantities ----------------------------------------------------------------------------

    def grip_pos(self, snap: Snapshot) -> Array:
        return snap.site_xpos[..., self.grip, :]

    def object_pos(self, snap: Snapshot, index: int = 0) -> Array:
        return snap.xpos[..., self.object_body[index], :]

    def place_object(self, qpos: Array, index: int, xyz: Array, yaw: Array) -> Array:
        """qpos with object `index` at position `xyz`, turned by `yaw` about the vertical."""
        return put_free_pose(qpos, self.object_qpos[index], free_pose(xyz, yaw))

    def table_xy(self, u: Array) -> Array:
        xp = xp_of(u)
        low, high = self.robot.table_region_low, self.robot.table_region_high
        return uniform(u, xp.asarray(low), xp.asarray(high))

    # ---- task functions ------------------------------------------------------------------------

    def goal_observation(self, snap: Snapshot, state: EpisodeState) -> Array:
        return state.goal

    def object_observation(self, snap: Snapshot, state: EpisodeState) -> Array:
        """Object features for the policy; none by default."""
        xp = xp_of(snap.qpos)
        return xp.zeros(snap.qpos.shape[:-1] + (0,))

    def observation_terms(self, snap: Snapshot, state: EpisodeState) -> dict[str, Array]:
        xp = xp_of(snap.qpos)
        return {
            "goal": self.goal_observation(snap, state),
            **self.joint_observation(snap, state, JOINT_VEL_SCALE),
            "finger_opening": snap.sensordata[..., self.finger] / self.robot.finger_travel,
            "grip_pos_rel_workspace": self.grip_pos(snap) - xp.asarray(self.workspace_center),
            "object": self.object_observation(snap, state),
        }

    def observation_sources(self) -> dict[str, tuple[str, float, Any]]:
        return {
            "goal": ("goal", 1.0, 0.0),
            "joint_pos_rel_default": ("joint_pos", 1.0, self.default_joint_pos.tolist()),
            "joint_vel": ("joint_vel", JOINT_VEL_SCALE, 0.0),
            "last_action": ("last_action", 1.0, 0.0),
            "finger_opening": ("finger_pos", 1.0 / self.robot.finger_travel, 0.0),
            "grip_pos_rel_workspace": ("grip_pos", 1.0, self.workspace_center.tolist()),
            "object": ("object", 1.0, 0.0),
        }

    def critic_observation(self, snap: Snapshot, state: EpisodeState) -> Array:
        xp = xp_of(snap.qpos)
        return xp.concat(
            [snap.xpos[..., b, :] for b in self.object_body] or [self.grip_pos(snap)], axis=-1
        )

    def active_object_pos(self, snap: Snapshot, state: EpisodeState) -> Array:
        """The position of the object the episode is about (the first one by default)."""
        return self.object_pos(snap, 0)

    def terminated(self, snap: Snapshot, state: EpisodeState) -> Array:
        """Knocking the object off the table ends the episode."""
        if not self.objects:
            xp = xp_of(snap.qpos)
            return xp.zeros(snap.qpos.shape[:-1], dtype=xp.bool)
        drop_height = self.robot.table_height - self.config.drop_depth
        return self.active_object_pos(snap, state)[..., 2] < drop_height

    def reward_terms(self) -> dict:
        return {"action_rate": action_rate, "joint_vel": joint_vel, **self.skill_reward_terms()}

    def skill_reward_terms(self) -> dict:
        return {}


def reach_object(task: ArmSkill, snap: Snapshot, state: EpisodeState, action: Array) -> Array:
    """Pull the gripper to the episode's object. A 0.3 m `reach_scale` keeps a slope from where
    the gripper starts (20 to 40 cm away); at 0.1 m the pull was flat there and never found."""
    grip_to_object = task.active_object_pos(snap, state) - task.grip_pos(snap)
    return distance_reward(norm(grip_to_object), task.config.reach_scale)
