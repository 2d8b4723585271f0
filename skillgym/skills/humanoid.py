"""What every humanoid skill shares: observation layout, falls, and posture reward terms.

The per-robot numbers (heights, gains) and the names of the sites and sensors these functions
read come from the robot's `HumanoidConfig` (`skillgym.core.robots`).
"""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar

import mujoco
import numpy as np

from skillgym.core.arrays import Array, gravity_in_frame, heading_rotate, heading_unrotate, xp_of
from skillgym.core.privileges import PelvisHarness, Privilege, ReducedGravity
from skillgym.core.rewards import action_rate, joint_vel
from skillgym.core.robots import HumanoidConfig
from skillgym.core.snapshot import Snapshot
from skillgym.core.task import EpisodeState, Task, TaskConfig

# Observation scales keep every entry of order one.
JOINT_VEL_SCALE = 0.05
GYRO_SCALE = 0.25

_POSTURE_REWARDS = {
    "alive": 1.0,
    "upright": 1.0,
    "posture": 0.5,
    "torque": -2e-5,
    "joint_vel": -1e-3,
    "action_rate": -0.05,
    "fall": -100.0,  # once, when the episode ends in a fall: about 2 s of `alive`
}


def humanoid_weights(**task_terms: float) -> dict[str, float]:
    """The shared posture and effort weights plus a skill's own terms."""
    return {**_POSTURE_REWARDS, **task_terms}


@dataclasses.dataclass(frozen=True)
class HumanoidTaskConfig(TaskConfig):
    max_tilt: float = 1.0  # rad; a larger tilt of the pelvis is a fall
    # `upright` is exp(-s / upright_sigma), s the squared sine of the pelvis tilt (unitless).
    upright_sigma: float = 0.05
    # Training help: a harness that catches falls, and weaker gravity for the robot.
    privileges: tuple[Privilege, ...] = (PelvisHarness(), ReducedGravity())


class HumanoidSkill(Task):
    """Base of the humanoid skills: proprioception plus a goal, falls end the episode."""

    robot_kind: ClassVar[str] = "humanoid"
    robot: HumanoidConfig
    config: HumanoidTaskConfig

    def bind(self, model: mujoco.MjModel) -> None:
        super().bind(model)
        robot = self.robot
        names = (robot.pelvis_site, *robot.wrist_sites, *robot.foot_sites)
        self.sites = {name: model.site(name).id for name in names}  # site name -> index
        self.pelvis = self.sites[robot.pelvis_site]
        self.gyro = self.sensor_slice(model, robot.gyro_sensor)
        self.linvel = self.sensor_slice(model, robot.velocimeter_sensor)
        self.touch = np.array([model.sensor(name).adr[0] for name in robot.foot_touch_sensors])
        self.home_data = mujoco.MjData(model)  # the default pose, for goals relative to it
        mujoco.mj_resetDataKeyframe(model, self.home_data, model.keyframe("home").id)
        mujoco.mj_forward(model, self.home_data)
        self.home_site_xpos = self.home_data.site_xpos

    # ---- quantities the skills read ----------------------------------------------------------

    def base_xmat(self, snap: Snapshot) -> Array:
        return snap.site_xmat[..., self.pelvis, :]

    def base_height(self, snap: Snapshot) -> Array:
        return snap.site_xpos[..., self.pelvis, 2]

    def site_positions(self, snap: Snapshot, names: tuple[str, ...]) -> Array:
        """World positions of the named sites, (..., len(names), 3)."""
        xp = xp_of(snap.site_xpos)
        return xp.stack([snap.site_xpos[..., self.sites[name], :] for name in names], axis=-2)

    def local(self, snap: Snapshot, site: str) -> Array:
        """A site's position relative to the pelvis, in the pelvis heading frame, (..., 3)."""
        return self.relative(snap, snap.site_xpos[..., self.sites[site], :])

    def relative(self, snap: Snapshot, points: Array) -> Array:
        """World points relative to the pelvis, in the pelvis heading frame, (..., [k,] 3)."""
        pelvis = _like(points, snap.site_xpos[..., self.pelvis, :])
        return self.heading(snap, points - pelvis)

    def heading(self, snap: Snapshot, vectors: Array) -> Array:
        """World vectors (..., [k,] 3) in the pelvis heading frame: xy turned, z kept."""
        xp = xp_of(vectors)
        xy = heading_rotate(_like(vectors, self.base_xmat(snap)), vectors[..., :2])
        return xp.concat([xy, vectors[..., 2:3]], axis=-1)

    def home_local(self, site: str) -> np.ndarray:
        """`local` of a site at the default pose."""
        return self.home_site_xpos[self.sites[site]] - self.home_site_xpos[self.pelvis]

    def gravity(self, snap: Snapshot) -> Array:
        return gravity_in_frame(self.base_xmat(snap))

    def base_lin_vel(self, snap: Snapshot) -> Array:
        return snap.sensordata[..., self.linvel]

    def base_ang_vel(self, snap: Snapshot) -> Array:
        return snap.sensordata[..., self.gyro]

    def foot_contact(self, snap: Snapshot) -> Array:
        """Whether each foot (left, right) touches the ground, (..., 2) bool."""
        xp = xp_of(snap.qpos)
        return xp.take(snap.sensordata, xp.asarray(self.touch), axis=-1) > 0.0

    def air_time(self, snap: Snapshot, air: Array) -> Array:
        """Seconds each foot has been off the ground, after this step, from the time before."""
        return xp_of(snap.qpos).where(self.foot_contact(snap), 0.0, air + self.dt)

    def step_touchdown(self, snap: Snapshot, air: Array) -> Array:
        """Which foot (left, right) came down this step onto the other's support, (..., 2)
        bool, from the feet's air time before it. A hop (both feet landing) or a foot waved
        while hanging in a training harness is no step."""
        contact = self.foot_contact(snap)
        other_stands = contact[..., ::-1] & (air[..., ::-1] == 0.0)
        return contact & (air > 0.0) & other_stands

    # ---- task functions ----------------------------------------------------------------------

    def goal_observation(self, snap: Snapshot, state: EpisodeState) -> Array:
        """The goal as the policy sees it; by default the goal itself."""
        return state.goal

    def estimated_terms(self, snap: Snapshot) -> dict[str, Array]:
        """Base state beyond the IMU's rates and tilt that a skill observes, by term name: none
        by default, since on a robot each entry costs an estimator or a sensor the skill then
        depends on."""
        return {}

    def observation_terms(self, snap: Snapshot, state: EpisodeState) -> dict[str, Array]:
        return {
            "goal": self.goal_observation(snap, state),
            **self.estimated_terms(snap),
            **self.joint_observation(snap, state, JOINT_VEL_SCALE),
            "imu_gyro": GYRO_SCALE * self.base_ang_vel(snap),
            "projected_gravity": self.gravity(snap),
        }

    def observation_sources(self) -> dict[str, tuple[str, float, Any]]:
        return {
            "goal": ("goal", 1.0, 0.0),
            "base_lin_vel": ("base_lin_vel", 1.0, 0.0),
            "foot_contact": ("foot_contact", 1.0, 0.0),
            "joint_pos_rel_default": ("joint_pos", 1.0, self.default_joint_pos.tolist()),
            "joint_vel": ("joint_vel", JOINT_VEL_SCALE, 0.0),
            "last_action": ("last_action", 1.0, 0.0),
            "imu_gyro": ("imu_gyro", GYRO_SCALE, 0.0),
            "projected_gravity": ("projected_gravity", 1.0, 0.0),
        }

    def foot_contact_term(self, snap: Snapshot) -> Array:
        """Which feet stand (foot switches), as 0.0 or 1.0, (..., 2)."""
        return xp_of(snap.qpos).astype(self.foot_contact(snap), snap.qpos.dtype)

    def critic_observation(self, snap: Snapshot, state: EpisodeState) -> Array:
        xp = xp_of(snap.qpos)
        return xp.concat(
            [
                self.base_lin_vel(snap),
                self.base_height(snap)[..., None],
                self.foot_contact_term(snap),
            ],
            axis=-1,
        )

    def fallen(self, snap: Snapshot) -> Array:
        up = -self.gravity(snap)[..., 2]
        too_low = self.base_height(snap) < self.robot.fall_height
        return too_low | (up < np.cos(self.config.max_tilt))

    def terminated(self, snap: Snapshot, state: EpisodeState) -> Array:
        return self.fallen(snap)

    def reward_terms(self) -> dict:
        return {
            "alive": alive,
            "upright": upright,
            "posture": posture,
            "torque": torque,
            "joint_vel": joint_vel,
            "action_rate": action_rate,
            "fall": fall,
            **self.skill_reward_terms(),
        }

    def skill_reward_terms(self) -> dict:
        return {}

    def world_from_local(self, data: mujoco.MjData, local: np.ndarray) -> np.ndarray:
        """Inverse of `local` for one env's MjData: heading-frame offsets to world points."""
        xmat = data.site_xmat[self.pelvis]
        xy = heading_unrotate(xmat, local[..., :2])
        return data.site_xpos[self.pelvis] + np.concatenate([xy, local[..., 2:3]], axis=-1)


def velocity_and_contacts(task: HumanoidSkill, snap: Snapshot) -> dict[str, Array]:
    """The estimated terms of a skill that needs to know whether the body still moves and which
    foot is free to lift: the base velocity (on hardware, an estimate) and the foot switches."""
    return {"base_lin_vel": task.base_lin_vel(snap), "foot_contact": task.foot_contact_term(snap)}


def _like(points: Array, per_env: Array) -> Array:
    """A per-env row (..., n) with axes added so it broadcasts against `points` (..., [k,] m)."""
    extra = points.ndim - per_env.ndim
    return xp_of(per_env).reshape(per_env, per_env.shape[:-1] + (1,) * extra + per_env.shape[-1:])


# ---- reward terms shared by the humanoid skills ----------------------------------------------


def alive(task: HumanoidSkill, snap: Snapshot, state: EpisodeState, action: Array) -> Array:
    xp = xp_of(snap.qpos)
    return xp.ones(snap.qpos.shape[:-1])


def upright(task: HumanoidSkill, snap: Snapshot, state: EpisodeState, action: Array) -> Array:
    xp = xp_of(snap.qpos)
    tilt = xp.sum(task.gravity(snap)[..., :2] ** 2, axis=-1)
    return xp.exp(-tilt / task.config.upright_sigma)


def posture(task: HumanoidSkill, snap: Snapshot, state: EpisodeState, action: Array) -> Array:
    xp = xp_of(snap.qpos)
    return xp.exp(-xp.sum(task.joint_offset(snap) ** 2, axis=-1))


def torque(task: HumanoidSkill, snap: Snapshot, state: EpisodeState, action: Array) -> Array:
    xp = xp_of(snap.qpos)
    return xp.sum(snap.actuator_force**2, axis=-1)


def fall(task: HumanoidSkill, snap: Snapshot, state: EpisodeState, action: Array) -> Array:
    return xp_of(snap.qpos).astype(task.fallen(snap), snap.qpos.dtype)
