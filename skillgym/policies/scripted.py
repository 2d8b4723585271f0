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
    Kinematics from the env's joint positions alone, so it works on either backend.

    A subclass may also turn the hand (`jaws`): pointing down, its jaw closing along a given
    horizontal direction. `posture` pulls the joints towards the default pose in the null space
    of the task, which keeps a 7-joint arm from drifting into its joint limits."""

    ROTATION_GAIN = 0.5  # of the orientation error corrected per step, against `max_step`'s metres

    def __init__(
        self,
        env: SkillVectorEnv,
        damping: float = 0.05,
        max_step: float = 0.05,
        posture: float = 0.0,
    ) -> None:
        self.env, self.damping, self.max_step, self.posture = env, damping, max_step, posture
        self.model = env.model
        task = env.task
        self.grip = task.grip
        self.data = mujoco.MjData(self.model)
        self.jac_pos = np.zeros((3, self.model.nv))
        self.jac_rot = np.zeros((3, self.model.nv))
        self.dofs = task.joint_dof_adr
        self.qpos_adr = task.joint_qpos_adr
        self.joint_act = task.joint_actuators

    def targets(self) -> np.ndarray:
        """Where the tool point should go, (num_envs, 3): Reach's goals."""
        return np.asarray(self.env.episode_state.goal)[:, :3]

    def jaws(self) -> np.ndarray | None:
        """Per env, the horizontal direction the jaw should close along with the hand pointing
        down, (num_envs, 3); None leaves the hand's orientation free."""
        return None

    def gripper_action(self) -> float | np.ndarray:
        """The gripper's action, for every env or per env as (num_envs, 1): 0 leaves it open."""
        return 0.0

    def __call__(self, obs: Any) -> np.ndarray:
        task, targets, jaws = self.env.task, self.targets(), self.jaws()
        qpos = np.asarray(self.env.snapshot().qpos)
        actions = np.full(self.env.action_space.shape, self.gripper_action())
        data = self.data
        for i in range(self.env.num_envs):
            data.qpos[:] = qpos[i]
            mujoco.mj_kinematics(self.model, data)
            mujoco.mj_comPos(self.model, data)  # what the site Jacobian reads
            error = targets[i] - data.site_xpos[self.grip]
            step = error * min(1.0, self.max_step / (np.linalg.norm(error) + 1e-9))
            mujoco.mj_jacSite(self.model, data, self.jac_pos, self.jac_rot, self.grip)
            jac = self.jac_pos[:, self.dofs]
            if jaws is not None:
                hand = data.site_xmat[self.grip].reshape(3, 3)
                turn = self.hand_turn(hand, jaws[i], self.jac_rot[2, self.dofs[-1]], qpos[i])
                step = np.concatenate([step, self.ROTATION_GAIN * turn])
                jac = np.vstack([jac, self.jac_rot[:, self.dofs]])
            inverse = jac.T @ np.linalg.inv(jac @ jac.T + self.damping**2 * np.eye(len(jac)))
            dq = inverse @ step
            if self.posture:
                home = task.default_ctrl[self.joint_act] - data.qpos[self.qpos_adr]
                dq += (np.eye(len(dq)) - inverse @ jac) @ (self.posture * home)
            target = data.qpos[self.qpos_adr] + dq
            delta = target - task.default_ctrl[self.joint_act]
            actions[i, self.joint_act] = delta / task.action_scale[self.joint_act]
        return np.clip(actions, -1.0, 1.0)

    def hand_turn(
        self, hand: np.ndarray, jaw: np.ndarray, last_joint_yaw: float, qpos: np.ndarray
    ) -> np.ndarray:
        """The rotation (axis times angle, small) from the hand's orientation to pointing down
        with its jaw along `jaw`. The jaw is symmetric, so of +-jaw it takes the one that leaves
        the last joint nearer its default (`last_joint_yaw`: that joint's turn about the
        vertical per radian)."""
        current = horizontal(hand[:, 1])

        def last_joint_after(direction: np.ndarray) -> float:
            yaw = np.arctan2(np.cross(current, direction)[2], current @ direction)
            last = self.qpos_adr[-1]
            return (
                qpos[last] + yaw / last_joint_yaw - self.env.task.default_ctrl[self.joint_act[-1]]
            )

        jaw = min((jaw, -jaw), key=lambda d: abs(last_joint_after(d)))
        down = np.array([0.0, 0.0, -1.0])
        goal = np.stack([np.cross(jaw, down), jaw, down], axis=1)
        return 0.5 * sum(np.cross(hand[:, k], goal[:, k]) for k in range(3))


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
        task, snap, state = self.env.task, self.env.snapshot(), self.env.episode_state
        goal = np.asarray(state.goal)[:, :2]
        box = np.asarray(task.object_pos(snap))[:, :2]
        grip = np.asarray(task.grip_pos(snap))
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
    """Arm Lift by the same inverse kinematics, turning the hand to the object.

    An object that fits the open jaw across one of its sides (the small box, the flat box stood
    on its side or end) gets a top grasp: above it with the jaw across that side, down around
    it, close, lift, drifting towards the middle of the workspace where the arm lifts freely.
    The flat box lying flat is wider than the jaw opens, so first it is rolled onto its side:
    the closed fingertips press on its top face just inside the long edge nearer the middle of
    the workspace and pull across that edge until the box tips over. It succeeds in about 0.75
    of flat-box episodes, and lifts the small box in all.
    """

    FINGERTIPS = 0.02  # m the fingertips reach below the tool point
    HOVER = 0.07  # m above the object's top, before going down around it
    GRASP_DEPTH = 0.025  # m of the object's top between the pads
    LIFT_TO = 0.3  # m above the table top
    DRIFT = 0.3  # of the way towards the middle of the workspace while lifting
    YAW_TOLERANCE = np.radians(8.0)  # jaw turn off the object's side that still goes down
    # Rolling the flat box over its long edge:
    INSET = 0.015  # m inside the edge where the fingertips press
    PRESS = 0.005  # m below the top face the fingertips aim
    PULL = 0.06  # m ahead along the roll the tool point aims
    DIG = 0.02  # m further down it aims, keeping the fingertips pressed on
    LET_GO = np.radians(60.0)  # tilt past which the box falls onto its side by itself
    ROLLING = np.radians(3.0)  # tilt from which the fingertips follow the rolling box

    def __init__(self, env: SkillVectorEnv) -> None:
        super().__init__(env, max_step=0.02, posture=0.05)
        n = env.num_envs
        self.jaw = np.zeros((n, 3))
        self.closed = np.zeros(n, dtype=bool)
        task = env.task
        self.jaw_opening = task.robot.jaw_opening  # m the jaw spans with a margin
        self.finger = task.finger.start
        self.middle = np.asarray(task.workspace_center)[:2]

    def objects(self) -> tuple[np.ndarray, np.ndarray]:
        """Per env, the site at the centre of the object to lift and its half sizes, (n,) and
        (n, 3): the one the goal's one-hot names."""
        task = self.env.task
        active = np.argmax(np.asarray(self.env.episode_state.goal)[:, 1:], axis=-1)
        return np.asarray(task.centers)[active], task.half_sizes[active]

    def lifted(self, grasp: np.ndarray, pos: np.ndarray, i: int) -> np.ndarray:
        """Where env i takes the tool point, holding the object (centre at `pos`) by `grasp`:
        up, drifting towards the middle of the workspace."""
        lifted = grasp.copy()
        lifted[:2] += self.DRIFT * (self.middle - grasp[:2])
        lifted[2] = self.env.task.robot.table_height + self.LIFT_TO
        return lifted

    def targets(self) -> np.ndarray:
        snap, n = self.env.snapshot(), self.env.num_envs
        centers, halves = self.objects()
        pos = np.asarray(snap.site_xpos)[np.arange(n), centers]
        rot = np.asarray(snap.site_xmat)[np.arange(n), centers].reshape(n, 3, 3)
        grip = np.asarray(snap.site_xpos)[:, self.grip]
        hand = np.asarray(snap.site_xmat)[:, self.grip].reshape(n, 3, 3)
        finger = np.asarray(snap.sensordata)[:, self.finger]
        targets = np.zeros((n, 3))
        for i in range(n):
            half = halves[i]
            thin = int(np.argmin(half))
            if (
                abs(rot[i, 2, thin]) > np.cos(self.LET_GO)
                and 2 * np.sort(half)[1] > self.jaw_opening
            ):
                plan = self.roll(pos[i], rot[i], half, grip[i])
            else:
                plan = self.top_grasp(pos[i], rot[i], half, grip[i], hand[i], finger[i], i)
            targets[i], self.jaw[i], self.closed[i] = plan
        return targets

    def roll(
        self, pos: np.ndarray, rot: np.ndarray, half: np.ndarray, grip: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, bool]:
        """Press on the top face by a long edge and pull across it, the jaw closed."""
        thin, width, length = np.argsort(half)
        across = horizontal(rot[:, width])
        side = min(
            (1.0, -1.0), key=lambda s: np.linalg.norm(pos[:2] + s * across[:2] * 0.08 - self.middle)
        )
        up = np.sign(rot[2, thin])
        press = pos + rot @ (
            side * (half[width] - self.INSET) * unit(width)
            + up * (half[thin] - self.PRESS) * unit(thin)
        )
        edge = pos + rot @ (side * half[width] * unit(width) - up * half[thin] * unit(thin))
        # How the pressed point moves as the box rolls over the edge, towards `side * across`.
        lever, pull = press - edge, side * across
        ahead = pull * (lever @ lever) - lever * (lever @ pull)
        ahead /= np.linalg.norm(ahead)
        tips = grip - [0.0, 0.0, self.FINGERTIPS]
        tilt = np.arccos(min(1.0, abs(rot[2, thin])))
        on_it = np.linalg.norm(tips[:2] - press[:2]) < 0.015 and tips[2] < press[2] + 0.015
        following = tilt > self.ROLLING and np.linalg.norm(tips - press) < 0.03
        jaw = horizontal(rot[:, length])  # the palm along the edge, clear of the rolling box
        if on_it or following:
            return press + self.PULL * ahead + [0.0, 0.0, self.FINGERTIPS - self.DIG], jaw, True
        above = press + [0.0, 0.0, self.FINGERTIPS]
        if np.linalg.norm(tips[:2] - press[:2]) >= 0.012:
            above[2] += self.HOVER
        return above, jaw, True

    def top_grasp(
        self,
        pos: np.ndarray,
        rot: np.ndarray,
        half: np.ndarray,
        grip: np.ndarray,
        hand: np.ndarray,
        finger: float,
        i: int,
    ) -> tuple[np.ndarray, np.ndarray, bool]:
        """Above the object, the jaw across a side it fits; down around it; close; lift."""
        fits = [k for k in range(3) if abs(rot[2, k]) < 0.7 and 2 * half[k] <= self.jaw_opening]
        jaw = max((horizontal(rot[:, k]) for k in fits), key=lambda d: abs(d @ hand[:, 1]))
        top = pos[2] + half @ np.abs(rot[2])
        grasp = np.array([pos[0], pos[1], max(pos[2], top - self.GRASP_DEPTH)])
        turned = abs(horizontal(hand[:, 1]) @ jaw) > np.cos(self.YAW_TOLERANCE)
        off = np.linalg.norm(grip[:2] - grasp[:2])
        # The fingers' opening: 0.04 open, 0 closed on nothing, in between closed on the object.
        if 0.005 < finger < 0.033 and np.linalg.norm(grip - grasp) < 0.03:
            return self.lifted(grasp, pos, i), jaw, True
        closing = 0.005 < finger < 0.038 and np.linalg.norm(grip - grasp) < 0.02
        if closing or (off < 0.01 and turned and grip[2] < grasp[2] + 0.01):
            return grasp, jaw, True
        if off < 0.015 and turned:
            return grasp, jaw, False
        if off > 0.02 and grip[2] - self.FINGERTIPS < top + 0.01:  # low beside it: up first
            return np.array([grip[0], grip[1], top + self.HOVER]), horizontal(hand[:, 1]), False
        return np.array([grasp[0], grasp[1], top + self.HOVER]), jaw, False

    def jaws(self) -> np.ndarray:
        return self.jaw

    def gripper_action(self) -> np.ndarray:
        return np.where(self.closed, -1.0, 0.0)[:, None]


class ArmFlatBoxIK(ArmLiftIK):
    """PushGraspLift and PivotGrasp by Lift's controller: roll the flat box onto its side,
    grasp it from above, and carry it to the goal in the air (its centre onto the goal)."""

    def objects(self) -> tuple[np.ndarray, np.ndarray]:
        task, n = self.env.task, self.env.num_envs
        ((name, _),) = task.objects
        half = self.model.geom(f"{name}/geom").size
        return np.full(n, task.center), np.broadcast_to(half, (n, 3))

    def lifted(self, grasp: np.ndarray, pos: np.ndarray, i: int) -> np.ndarray:
        return grasp + np.asarray(self.env.episode_state.goal)[i] - pos


def horizontal(v: np.ndarray) -> np.ndarray:
    """The unit vector along `v`'s horizontal part."""
    flat = np.array([v[0], v[1], 0.0])
    return flat / (np.linalg.norm(flat) + 1e-9)


def unit(axis: int) -> np.ndarray:
    return np.eye(3)[axis]


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
        error = task.base_height(self.env.snapshot()) - np.asarray(state.goal)[:, 0]
        self.crouch = np.clip(self.crouch + self.gain * error, 0.0, self.max_crouch)
        bend = self.crouch[:, None] * self.direction
        return np.clip(bend / task.action_scale, -1.0, 1.0)


def scripted_policy(env: SkillVectorEnv) -> Policy | None:
    """The scripted controller for an env's skill, where one exists."""
    controllers = {
        ("arm", "Reach"): ArmReachIK,
        ("arm", "Push"): ArmPushIK,
        ("arm", "Lift"): ArmLiftIK,
        ("arm", "PushGraspLift"): ArmFlatBoxIK,
        ("arm", "PivotGrasp"): ArmFlatBoxIK,
        ("humanoid", "Squat"): HumanoidSquat,
    }
    controller = controllers.get((env.task.robot_kind, env.task.name))
    return controller(env) if controller else None
