"""Reference policies that need no training: zero, random, and scripted controllers.

A policy maps a batch of observations to a batch of actions in [-1, 1]. Scripted ones also read
the env they drive (its simulator state and goals), which a learned policy never does.
"""

from __future__ import annotations

from typing import Any, Protocol

import mujoco
import numpy as np
from gymnasium.vector import VectorEnv

from skillgym.envs.vector import SkillVectorEnv


class Policy(Protocol):
    def __call__(self, obs: Any) -> np.ndarray: ...


class ZeroPolicy:
    """Hold the default pose."""

    def __init__(self, env: SkillVectorEnv) -> None:
        self.shape = env.action_space.shape

    def __call__(self, obs: Any) -> np.ndarray:
        return np.zeros(self.shape)


class RandomPolicy:
    """Uniform random actions, seeded."""

    def __init__(self, env: SkillVectorEnv, seed: int = 0) -> None:
        self.shape = env.action_space.shape
        self.rng = np.random.default_rng(seed)

    def __call__(self, obs: Any) -> np.ndarray:
        return self.rng.uniform(-1.0, 1.0, self.shape)


class ArmReachIK:
    """Arm Reach by damped least-squares inverse kinematics on the gripper's tool point.
    Kinematics from the env's joint positions alone, so it works on either backend."""

    def __init__(self, env: SkillVectorEnv, damping: float = 0.05, max_step: float = 0.05) -> None:
        self.env, self.damping, self.max_step = env, damping, max_step
        self.model = env.model
        self.grip = self.model.site("grip").id
        self.data = mujoco.MjData(self.model)
        self.jac = np.zeros((3, self.model.nv))
        task = env.task
        self.dofs = task.joint_dof_adr
        self.qpos_adr = task.joint_qpos_adr
        self.joint_act = task.joint_actuators

    def targets(self) -> np.ndarray:
        """Where the tool point should go, (num_envs, 3): Reach's goals."""
        return np.asarray(self.env.episode_state.goal)[:, :3]

    def gripper_action(self) -> float | np.ndarray:
        """The gripper's action, for every env or per env as (num_envs, 1): 0 leaves it open."""
        return 0.0

    def __call__(self, obs: Any) -> np.ndarray:
        task, targets = self.env.task, self.targets()
        qpos = np.asarray(self.env.frame().qpos)
        actions = np.full(self.env.action_space.shape, self.gripper_action())
        data = self.data
        for i in range(self.env.num_envs):
            data.qpos[:] = qpos[i]
            mujoco.mj_kinematics(self.model, data)
            mujoco.mj_comPos(self.model, data)  # what the site Jacobian reads
            error = targets[i] - data.site_xpos[self.grip]
            step = error * min(1.0, self.max_step / (np.linalg.norm(error) + 1e-9))
            mujoco.mj_jacSite(self.model, data, self.jac, None, self.grip)
            jac = self.jac[:, self.dofs]
            dq = jac.T @ np.linalg.solve(jac @ jac.T + self.damping**2 * np.eye(3), step)
            target = data.qpos[self.qpos_adr] + dq
            delta = target - task.default_ctrl[self.joint_act]
            actions[i, self.joint_act] = delta / task.action_scale[self.joint_act]
        return np.clip(actions, -1.0, 1.0)


class ArmPushIK(ArmReachIK):
    """Arm Push by the same inverse kinematics: with the gripper closed, go above a spot behind
    the box (on the far side from its goal), lower to the table, then push along the line until
    the box is at its goal; start over whenever the box slips off that line."""

    BEHIND = 0.07  # m from the box centre to the tool point when the push starts
    HOVER = 0.1  # m above the pushing height, while moving to the start spot
    PUSH_HEIGHT = 0.02  # m above the table: the fingertips low on the box's side

    def __init__(self, env: SkillVectorEnv) -> None:
        super().__init__(env, max_step=0.012)  # about 0.6 m/s, slow enough to keep contact
        self.pushing = np.zeros(env.num_envs, dtype=bool)

    def targets(self) -> np.ndarray:
        task, frame, state = self.env.task, self.env.frame(), self.env.episode_state
        goal = np.asarray(state.goal)[:, :2]
        box = np.asarray(task.object_pos(frame))[:, :2]
        grip = np.asarray(task.grip_pos(frame))
        direction = (goal - box) / (np.linalg.norm(goal - box, axis=-1, keepdims=True) + 1e-9)
        rel = grip[:, :2] - box
        along = np.sum(rel * direction, axis=-1)
        across = np.abs(rel[:, 0] * direction[:, 1] - rel[:, 1] * direction[:, 0])
        low = task.robot.table_height + self.PUSH_HEIGHT
        start = box - self.BEHIND * direction
        from_start = np.linalg.norm(grip[:, :2] - start, axis=-1)
        ready = (from_start < 0.015) & (grip[:, 2] < low + 0.015)
        self.pushing = ((np.asarray(state.steps) > 0) & self.pushing) | ready
        self.pushing &= (across < 0.03) & (along < -0.02)
        xy = np.where(self.pushing[:, None], goal - (self.BEHIND - 0.015) * direction, start)
        hover = ~self.pushing & (from_start > 0.02)
        return np.concatenate([xy, (low + self.HOVER * hover)[:, None]], axis=-1)

    def gripper_action(self) -> float:
        return -1.0  # closed: the fingers make one flat pusher


class ArmLiftIK(ArmReachIK):
    """Arm Lift by the same inverse kinematics, with a top grasp: above the object, down around
    it with the jaw open, close, lift. The flat box lying flat is wider than the jaw opens, so
    this lifts the small box only (about half of the episodes)."""

    ABOVE, DOWN, CLOSE, LIFT = range(4)  # phases
    HOVER = 0.1  # m above the object, before going down around it
    CLOSE_STEPS = 15  # control steps for the jaw to close before lifting
    LIFT_TO = 0.25  # m above the table top

    def __init__(self, env: SkillVectorEnv) -> None:
        super().__init__(env, max_step=0.02)
        self.phase = np.zeros(env.num_envs, dtype=int)
        self.closing = np.zeros(env.num_envs, dtype=int)

    def targets(self) -> np.ndarray:
        task, frame, state = self.env.task, self.env.frame(), self.env.episode_state
        new = np.asarray(state.steps) == 0
        self.phase[new], self.closing[new] = self.ABOVE, 0
        item = np.asarray(task.active_object_pos(frame, state))
        grip = np.asarray(task.grip_pos(frame))
        above = item + [0.0, 0.0, self.HOVER]
        arrived = np.linalg.norm(grip - above, axis=-1) < 0.015
        self.phase[(self.phase == self.ABOVE) & arrived] = self.DOWN
        around = np.linalg.norm(grip - item, axis=-1) < 0.01
        self.phase[(self.phase == self.DOWN) & around] = self.CLOSE
        self.closing += self.phase == self.CLOSE
        self.phase[self.closing > self.CLOSE_STEPS] = self.LIFT
        lifted = item.copy()
        lifted[:, 2] = task.robot.table_height + self.LIFT_TO
        phase = self.phase[:, None]
        return np.where(phase == self.ABOVE, above, np.where(phase == self.LIFT, lifted, item))

    def gripper_action(self) -> np.ndarray:
        return np.where(self.phase >= self.CLOSE, -1.0, 0.0)[:, None]


class HumanoidSquat:
    """Humanoid Squat by pose interpolation: bend hips, knees and ankles until the pelvis is low
    enough, by integral feedback on the height error. Works on either backend."""

    # Bend per unit of crouch: the knee bends twice as far as the ankle so the feet stay flat,
    # and the hips a little further than the ankle so the trunk leans forward over the feet.
    BEND = {"hip_pitch": -1.3, "knee": 2.0, "ankle_pitch": -1.0}

    def __init__(self, env: VectorEnv, gain: float = 0.2, max_crouch: float = 0.6) -> None:
        self.env, self.gain, self.max_crouch = env, gain, max_crouch
        names = [env.model.actuator(i).name for i in range(env.model.nu)]
        self.direction = np.array(
            [next((v for k, v in self.BEND.items() if k in name), 0.0) for name in names]
        )
        self.crouch = np.zeros(env.num_envs)

    def __call__(self, obs: Any) -> np.ndarray:
        task, state = self.env.task, self.env.episode_state
        self.crouch = np.where(np.asarray(state.steps) == 0, 0.0, self.crouch)
        error = task.base_height(self.env.frame()) - np.asarray(state.goal)[:, 0]
        self.crouch = np.clip(self.crouch + self.gain * error, 0.0, self.max_crouch)
        bend = self.crouch[:, None] * self.direction
        return np.clip(bend / task.action_scale, -1.0, 1.0)


def scripted_policy(env: SkillVectorEnv) -> Policy | None:
    """The scripted controller for an env's skill, where one exists."""
    controllers = {
        ("arm", "Reach"): ArmReachIK,
        ("arm", "Push"): ArmPushIK,
        ("arm", "Lift"): ArmLiftIK,
        ("humanoid", "Squat"): HumanoidSquat,
    }
    controller = controllers.get((env.task.robot_kind, env.task.name))
    return controller(env) if controller else None
