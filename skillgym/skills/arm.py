"""What every arm skill shares: the table scene, proprioception, objects on the table."""

from __future__ import annotations

import dataclasses
from typing import ClassVar

import mujoco
import numpy as np

from skillgym.core.arrays import Array, free_pose, norm, put, uniform, xp_of
from skillgym.core.privileges import ObjectForce, Privilege, TableOffset
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


def arm_weights(**task_terms: float) -> dict[str, float]:
    """Shared effort weights plus a skill's own terms."""
    return {"action_rate": -0.05, "joint_vel": -1e-3, **task_terms}


class ArmSkill(Task):
    """Base of the arm skills. `objects` names the free props the skill puts on the table."""

    robot_kind: ClassVar[str] = "arm"
    objects: ClassVar[tuple[tuple[str, str], ...]] = ()  # (instance name, prop)
    robot: ArmConfig

    def build_spec(self) -> mujoco.MjSpec:
        from skillgym.assets import add_prop

        spec = super().build_spec()
        for i, (name, prop) in enumerate(self.objects):
            add_prop(spec, prop, name, pos=(0.0, 1.0 + 0.3 * i, 0.05))
        return spec

    def bind(self, model: mujoco.MjModel) -> None:
        super().bind(model)
        self.grip = model.site("grip").id
        self.finger = self.sensor_slice(model, "finger_left_pos")
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
        adr = self.object_qpos[index]
        return put(qpos, np.arange(adr, adr + 7), free_pose(xyz, yaw))

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

    def observe(self, snap: Snapshot, state: EpisodeState) -> Array:
        xp = xp_of(snap.qpos)
        return xp.concat(
            [
                self.goal_observation(snap, state),
                *self.joint_observation(snap, state, JOINT_VEL_SCALE),
                snap.sensordata[..., self.finger] / 0.04,
                self.grip_pos(snap) - xp.asarray(self.workspace_center),
                self.object_observation(snap, state),
            ],
            axis=-1,
        )

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
        return self.active_object_pos(snap, state)[..., 2] < self.robot.table_height - 0.1

    def reward_terms(self) -> dict:
        return {"action_rate": action_rate, "joint_vel": joint_vel, **self.skill_reward_terms()}

    def skill_reward_terms(self) -> dict:
        return {}


def action_rate(task: ArmSkill, snap: Snapshot, state: EpisodeState, action: Array) -> Array:
    xp = xp_of(action)
    return xp.sum((action - state.last_action) ** 2, axis=-1)


def joint_vel(task: ArmSkill, snap: Snapshot, state: EpisodeState, action: Array) -> Array:
    xp = xp_of(snap.qvel)
    return xp.sum(task.joint_vel(snap) ** 2, axis=-1)


def goal_reached(task: ArmSkill, snap: Snapshot, state: EpisodeState, action: Array) -> Array:
    """1 while the skill's goal is met: a bonus that makes holding it pay."""
    xp = xp_of(snap.qpos)
    return xp.astype(task.reached(snap, state), snap.qpos.dtype)


def reach_object(task: ArmSkill, snap: Snapshot, state: EpisodeState, action: Array) -> Array:
    """Pull the gripper to the episode's object. The 0.3 m scale keeps a slope from where the
    gripper starts (20 to 40 cm away); at 0.1 m the pull was flat there and never found."""
    grip_to_object = task.active_object_pos(snap, state) - task.grip_pos(snap)
    return distance_reward(norm(grip_to_object), 0.3)


def distance_reward(distance: Array, scale: float) -> Array:
    """1 - tanh(d / scale): a dense pull towards zero distance."""
    return 1.0 - xp_of(distance).tanh(distance / scale)
