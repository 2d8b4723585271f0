"""Privileges: help that only a training env gives, taken away step by step by a curriculum.

Plain RL on contact-rich or balance-critical skills gets stuck early (a gripper hovering over an
object it cannot grasp, a humanoid that falls before it learns anything). A privileged env
(`privileged=True`) makes exploration easier through the privileges its task declares in
`TaskConfig.privileges`. Each has a scale per env, driven towards 0 by a curriculum; at 0 a
privilege does nothing at all, so an env whose scales are all 0 is the evaluation env, number
for number.

* `ObjectForce`: action channels that push the task's objects horizontally, only while the
  gripper is near one in position and velocity (the scale, alpha, scales both thresholds).
* `TableOffset`: the table top the robot collides with (a mocap body) lies `scale` metres
  below the real one, on which objects still rest.
* `PelvisHarness`: a spring-damper on the pelvis that catches falls and keeps the trunk upright.
* `ReducedGravity`: the robot's bodies are lifted by a fraction (the scale) of their weight.
* `NarrowCommands`: commands are drawn nearer to zero, shrunk by a factor (1 - scale).
* `SquaredYaw`: a box starts turned nearly square to the jaw; `1 - scale` of the full spread.
* `ObjectOnSide`: a box that lies flat starts stood on its side, where a top grasp fits it, in
  a `scale` fraction of episodes.

Everything here is a pure array function of a `Snapshot`, the privileged action channels and the
scales, so NumPy evaluates it on the CPU batch and jax.numpy under jit on MJX: the backends only
write the results into `xfrc_applied`, mocap body positions and episode starts.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any, ClassVar, NamedTuple

import mujoco
import numpy as np

from skillgym.core.arrays import Array, free_pose, norm, put_free_pose, xp_of
from skillgym.core.snapshot import Snapshot

if TYPE_CHECKING:
    from skillgym.core.task import Task

GRIP_VELOCITY_SENSOR = "privileged/grip_linvel"  # the sensor ObjectForce adds


@dataclasses.dataclass(frozen=True)
class Schedule:
    """A privilege's scale at each curriculum level.

    The scale stays at `initial` for the first `delay` levels, so that one privilege can wait
    for another to go; from there each level multiplies by `factor` and subtracts `decrement`;
    the first level that reaches `floor` holds it (when the floor is above 0), and every later
    level is 0.
    """

    initial: float
    decrement: float = 0.0
    factor: float = 1.0
    floor: float = 0.0
    delay: int = 0

    def __post_init__(self) -> None:
        if not (self.factor < 1.0 or self.decrement > 0.0) or self.initial <= self.floor:
            raise ValueError(f"{self} never reaches its floor")

    def _unclamped(self, level: Array) -> Array:
        steps = level - self.delay
        steps = steps * (steps > 0)  # max(level - delay, 0) for ints and arrays alike
        return self.initial * self.factor**steps - self.decrement * steps

    @property
    def floor_level(self) -> int:
        """The first level at which the scale is at (or below) the floor."""
        level = 0
        while self._unclamped(level) > self.floor + 1e-9:
            level += 1
        return level

    @property
    def off_level(self) -> int:
        """The first level at which the scale is 0."""
        return self.floor_level + (self.floor > 0.0)

    def scale(self, level: Array) -> Array:
        """The scale at `level` (an int or an array of per-env levels)."""
        xp = np if np.isscalar(level) else xp_of(level)
        level = xp.asarray(level)
        floor = xp.where(level < self.off_level, self.floor, 0.0)
        return xp.where(level < self.floor_level, self._unclamped(level), floor)


class Bound(NamedTuple):
    """What a privilege reads from the compiled model: body indices and per-body constants."""

    bodies: np.ndarray  # (k,) the bodies the privilege pushes, for its (..., k, 6) wrench
    constants: dict[str, Any]


@dataclasses.dataclass(frozen=True, kw_only=True)
class Privilege:
    """Base of the privileges; every hook defaults to doing nothing."""

    name: ClassVar[str]
    action_size: ClassVar[int] = 0  # extra action channels, appended after the robot's
    start_uniforms: ClassVar[int] = 0  # uniform samples per env that `start` draws on
    schedule: Schedule

    def edit_spec(self, spec: mujoco.MjSpec, task: Task) -> None:
        """Add what the privilege reads (sensors); nothing that changes the physics."""

    def bind(self, task: Task, model: mujoco.MjModel) -> Bound:
        return Bound(np.zeros(0, dtype=int), {})

    def wrench(
        self, bound: Bound, task: Task, snap: Snapshot, action: Array, scale: Array
    ) -> Array:
        """Force and torque (world frame, at the centre of mass) on `bound.bodies`, (..., k, 6)."""
        xp = xp_of(snap.qpos)
        return xp.zeros(snap.qpos.shape[:-1] + (0, 6))

    def mocap_offset(self, bound: Bound, scale: Array) -> Array | None:
        """Per-env displacement of the model's mocap bodies, (..., nmocap, 3), or None. Mocap
        poses live in the simulation state, which every backend keeps per env."""
        return None

    def start(
        self, bound: Bound, qpos: Array, goal: Array, u: Array, scale: Array
    ) -> tuple[Array, Array]:
        """The initial positions and goal an episode gets, from those the task sampled; `u` holds
        `start_uniforms` uniform samples per env."""
        return qpos, goal


@dataclasses.dataclass(frozen=True, kw_only=True)
class ObjectForce(Privilege):
    """Two action channels push the task's objects in x and y (never up), each object only while
    the gripper is within `scale * gate_distance` of it and moves with it within
    `scale * gate_speed`: the help comes only once the policy has found the object."""

    name: ClassVar[str] = "object_force"
    action_size: ClassVar[int] = 2
    schedule: Schedule = Schedule(initial=0.85, factor=0.9, floor=0.06)
    max_force: float = 1.5  # the object's weights per unit action: slides a box, won't tip it
    gate_distance: float = 0.15  # m, grip site to object centre, at scale 1
    gate_speed: float = 0.5  # m/s, grip velocity relative to the object's, at scale 1

    def edit_spec(self, spec: mujoco.MjSpec, task: Task) -> None:
        spec.add_sensor(
            name=GRIP_VELOCITY_SENSOR,
            type=mujoco.mjtSensor.mjSENS_FRAMELINVEL,
            objtype=mujoco.mjtObj.mjOBJ_SITE,
            objname=task.robot.grip_site,
        )

    def bind(self, task: Task, model: mujoco.MjModel) -> Bound:
        bodies = np.array(task.object_body, dtype=int)
        # A free joint's first three velocities are its body's linear velocity, world frame.
        dofs = model.jnt_dofadr[model.body_jntadr[bodies]]
        return Bound(
            bodies,
            {
                "grip_velocity": task.sensor_slice(model, GRIP_VELOCITY_SENSOR),
                "object_velocity": dofs[:, None] + np.arange(3),
                "weights": model.body_mass[bodies] * np.linalg.norm(model.opt.gravity),
            },
        )

    def wrench(
        self, bound: Bound, task: Task, snap: Snapshot, action: Array, scale: Array
    ) -> Array:
        xp = xp_of(snap.qpos)
        grip = task.grip_pos(snap)[..., None, :]
        grip_velocity = snap.sensordata[..., bound.constants["grip_velocity"]][..., None, :]
        objects = snap.xpos[..., bound.bodies, :]
        velocities = snap.qvel[..., bound.constants["object_velocity"]]
        scale = scale[..., None]
        near = (norm(objects - grip) < scale * self.gate_distance) & (
            norm(velocities - grip_velocity) < scale * self.gate_speed
        )
        weights = xp.asarray(bound.constants["weights"], dtype=snap.qpos.dtype)[:, None]
        push = self.max_force * weights * action[..., None, :]
        zeros = xp.zeros(push.shape[:-1] + (4,), dtype=push.dtype)
        force = xp.concat([push, zeros], axis=-1)
        return xp.where(near[..., None], force, xp.zeros_like(force))


@dataclasses.dataclass(frozen=True, kw_only=True)
class TableOffset(Privilege):
    """The robot's table top (a mocap copy of the real one that only the robot collides with)
    lies `scale` metres lower, so the gripper can get under an object's edge while objects rest
    on the real top."""

    name: ClassVar[str] = "table_offset"
    schedule: Schedule = Schedule(initial=0.3, decrement=0.1)

    def bind(self, task: Task, model: mujoco.MjModel) -> Bound:
        down = np.zeros((model.nmocap, 3))
        down[model.body_mocapid[model.body(task.robot.robot_table_body).id], 2] = -1.0
        return Bound(np.zeros(0, dtype=int), {"down": down})

    def mocap_offset(self, bound: Bound, scale: Array) -> Array:
        xp = xp_of(scale)
        return scale[..., None, None] * xp.asarray(bound.constants["down"], dtype=scale.dtype)


@dataclasses.dataclass(frozen=True, kw_only=True)
class PelvisHarness(Privilege):
    """A virtual harness on the pelvis that catches falls: a spring-damper lifts the pelvis once
    it sinks `slack` of the way from standing to fall height (never pulling down), and turns it
    back once it tilts more than `tilt_slack`; the scale multiplies its strength.

    Both slacks leave a policy that walks or squats by itself alone, so that its success with
    the harness on says what it would do without: the pelvis may sink below the deepest squat
    and lean as a walking gait leans. With a catch a quarter of the way down and the trunk held
    upright at any tilt, the harness bore 0.88 of the weight of a tall19 walker that walks
    crouched (pelvis at 0.73 m) and cut its success from 0.97 to 0.33, so a success-gated
    curriculum could not take it away."""

    name: ClassVar[str] = "pelvis_harness"
    schedule: Schedule = Schedule(initial=1.0, decrement=0.25)
    slack: float = 0.65  # of the way from standing to fall height, before the lift starts
    lift_stiffness: float = 30.0  # body weights per metre below the catch height
    lift_damping: float = 3.0  # body weights per m/s of sinking
    max_lift: float = 1.0  # body weights
    upright_stiffness: float = 4.0  # body weight x standing height, per rad of tilt
    upright_damping: float = 0.3  # body weight x standing height, per rad/s
    tilt_slack: float = 0.1  # rad of pelvis tilt left alone before the harness turns it back

    def bind(self, task: Task, model: mujoco.MjModel) -> Bound:
        pelvis = model.site(task.robot.pelvis_site).id
        body = model.site_bodyid[pelvis]
        root_dof = model.jnt_dofadr[model.body_jntadr[body]]  # the free joint of the pelvis
        weight = float(model.body_subtreemass[body]) * float(np.linalg.norm(model.opt.gravity))
        return Bound(
            np.array([body]),
            {
                "site": pelvis,
                "velocity": root_dof + np.arange(3),
                "angular_velocity": root_dof + np.arange(3, 6),  # in the pelvis frame
                "weight": weight,
                "height": task.robot.standing_height,
                "catch_height": task.robot.standing_height
                - self.slack * (task.robot.standing_height - task.robot.fall_height),
            },
        )

    def wrench(
        self, bound: Bound, task: Task, snap: Snapshot, action: Array, scale: Array
    ) -> Array:
        xp = xp_of(snap.qpos)
        c = bound.constants
        weight, height = c["weight"], c["height"]
        sink = c["catch_height"] - snap.site_xpos[..., c["site"], 2]
        sink_rate = -snap.qvel[..., c["velocity"][2]]
        lift = self.lift_stiffness * sink + self.lift_damping * sink_rate
        lift = weight * xp.clip(lift, 0.0, self.max_lift)
        xmat = xp.reshape(snap.site_xmat[..., c["site"], :], snap.qpos.shape[:-1] + (3, 3))
        spin = xp.sum(xmat * snap.qvel[..., None, c["angular_velocity"]], axis=-1)  # world
        up = xmat[..., :, 2]  # the pelvis z axis in the world
        # up x (0, 0, 1) turns the pelvis back upright; its size is sin(tilt). Only the tilt
        # beyond the slack counts, and only there is the spin damped.
        sin_tilt = xp.sqrt(up[..., 0] ** 2 + up[..., 1] ** 2)
        beyond = xp.clip(1.0 - np.sin(self.tilt_slack) / (sin_tilt + 1e-9), 0.0, None)
        torque_x = beyond * (
            self.upright_stiffness * up[..., 1] - self.upright_damping * spin[..., 0]
        )
        torque_y = beyond * (
            -self.upright_stiffness * up[..., 0] - self.upright_damping * spin[..., 1]
        )
        zeros = xp.zeros_like(lift)
        wrench = xp.stack(
            [zeros, zeros, lift, weight * height * torque_x, weight * height * torque_y, zeros],
            axis=-1,
        )
        return (scale[..., None] * wrench)[..., None, :]


@dataclasses.dataclass(frozen=True, kw_only=True)
class ReducedGravity(Privilege):
    """Every body of the robot is lifted by `scale` times its weight, as if gravity were weaker
    for the robot alone; through `xfrc_applied`, so each env can have its own."""

    name: ClassVar[str] = "reduced_gravity"
    schedule: Schedule = Schedule(initial=0.3, decrement=0.1)

    def bind(self, task: Task, model: mujoco.MjModel) -> Bound:
        root = model.body_rootid[model.site_bodyid[task.tilt_site]]
        bodies = np.flatnonzero(model.body_rootid == root)
        weights = np.zeros((len(bodies), 6))
        weights[:, 2] = model.body_mass[bodies] * np.linalg.norm(model.opt.gravity)
        return Bound(bodies, {"weights": weights})

    def wrench(
        self, bound: Bound, task: Task, snap: Snapshot, action: Array, scale: Array
    ) -> Array:
        xp = xp_of(snap.qpos)
        weights = xp.asarray(bound.constants["weights"], dtype=snap.qpos.dtype)
        return scale[..., None, None] * weights


@dataclasses.dataclass(frozen=True, kw_only=True)
class NarrowCommands(Privilege):
    """Commands nearer to zero: the sampled goal times (1 - scale). A curriculum widens the
    range as tracking improves."""

    name: ClassVar[str] = "narrow_commands"
    schedule: Schedule = Schedule(initial=0.7, decrement=0.1)

    def start(
        self, bound: Bound, qpos: Array, goal: Array, u: Array, scale: Array
    ) -> tuple[Array, Array]:
        return qpos, goal * (1.0 - scale[..., None])


@dataclasses.dataclass(frozen=True, kw_only=True)
class BoxStart(Privilege):
    """Base of the privileges that change the pose a task's box starts in. Their bound constants
    hold at least `box_constants`."""

    object: str = "flat"  # the instance name the task gave the box (`add_prop`)

    def box_constants(self, task: Task, model: mujoco.MjModel) -> dict[str, Any]:
        """Where the box's free-joint pose starts in qpos, and the table top's height."""
        joint = model.joint(f"{self.object}/free").id
        return {"qpos": int(model.jnt_qposadr[joint]), "table_height": task.robot.table_height}

    def box_pose(self, bound: Bound, qpos: Array) -> tuple[Array, Array]:
        """The box's free-joint pose (..., 7), and whether the box is on the table (the task
        parks the boxes an episode leaves out below it)."""
        adr = bound.constants["qpos"]
        pose = qpos[..., adr : adr + 7]
        return pose, pose[..., 2] > bound.constants["table_height"]


@dataclasses.dataclass(frozen=True, kw_only=True)
class SquaredYaw(BoxStart):
    """A box starts nearly square to the jaw: square is its long axis across the jaw of the
    home pose turned about the first joint to face the box, and the box keeps `1 - scale` of
    the task's own turn away from it (scale 1: square; 0: as the task drew it). Stood on its
    side, the flat box fits the 8 cm jaw only within about 7 degrees of square, which
    exploration rarely hits; the curriculum widens the spread to the full turn. Declare it
    before `ObjectOnSide`: it reads the yaw of a box the task turned about the vertical alone."""

    name: ClassVar[str] = "squared_yaw"
    schedule: Schedule = Schedule(initial=1.0, decrement=0.1)

    def bind(self, task: Task, model: mujoco.MjModel) -> Bound:
        data = mujoco.MjData(model)
        mujoco.mj_resetDataKeyframe(model, data, model.keyframe("home").id)
        mujoco.mj_kinematics(model, data)
        grip = model.site(task.robot.grip_site).id
        jaw = data.site_xmat[grip].reshape(3, 3)[:, 1]  # the hand's y: the fingers' axis
        base = data.xpos[model.body(task.robot.base_body).id]  # the first joint turns about it
        reach = data.site_xpos[grip] - base
        # The long axis across the jaw, relative to the direction from the base to the grip.
        offset = np.arctan2(jaw[1], jaw[0]) + np.pi / 2 - np.arctan2(reach[1], reach[0])
        return Bound(
            np.zeros(0, dtype=int),
            {
                **self.box_constants(task, model),
                "base_xy": base[:2].copy(),
                "offset": float(offset),
            },
        )

    def start(
        self, bound: Bound, qpos: Array, goal: Array, u: Array, scale: Array
    ) -> tuple[Array, Array]:
        xp = xp_of(qpos)
        c = bound.constants
        pose, on_table = self.box_pose(bound, qpos)
        yaw = 2.0 * xp.atan2(pose[..., 6], pose[..., 3])  # the task places boxes by yaw alone
        towards = pose[..., :2] - xp.asarray(c["base_xy"], dtype=qpos.dtype)
        square = xp.atan2(towards[..., 1], towards[..., 0]) + c["offset"]
        # A box looks the same turned half a turn: the shortest way to square is within 90 deg.
        off_square = xp.remainder(yaw - square + np.pi / 2, np.pi) - np.pi / 2
        squared = free_pose(pose[..., :3], square + (1.0 - scale) * off_square)
        pose = xp.where((on_table & (scale > 0.0))[..., None], squared, pose)  # 0: as drawn
        return put_free_pose(qpos, bound.constants["qpos"], pose), goal


@dataclasses.dataclass(frozen=True, kw_only=True)
class ObjectOnSide(BoxStart):
    """A box lying flat on the table starts stood on its side in a `scale` fraction of
    episodes: turned a quarter about its longest axis, so its thinnest extent lies across, where
    a top grasp fits it. The policy learns that grasp before it has to tip the box up itself.
    Scales set in mid-episode take effect from the next episode's start."""

    name: ClassVar[str] = "object_on_side"
    start_uniforms: ClassVar[int] = 1
    # Every flat box on its side until `SquaredYaw` is off: the grasp at any yaw comes first.
    schedule: Schedule = Schedule(initial=1.0, decrement=0.1, delay=10)

    def bind(self, task: Task, model: mujoco.MjModel) -> Bound:
        half = model.geom(f"{self.object}/geom").size
        if not half[0] >= half[1] >= half[2]:
            raise ValueError(f"{self.object}: a box lying flat needs sizes x >= y >= z, not {half}")
        return Bound(
            np.zeros(0, dtype=int),
            {
                **self.box_constants(task, model),
                "rise": float(half[1] - half[2]),  # the centre's, from flat to on its side
            },
        )

    def start(
        self, bound: Bound, qpos: Array, goal: Array, u: Array, scale: Array
    ) -> tuple[Array, Array]:
        xp = xp_of(qpos)
        pose, on_table = self.box_pose(bound, qpos)
        turn = on_table & (u[..., 0] < scale)
        w, x, y, z = (pose[..., 3 + i] for i in range(4))
        # The quaternion times a quarter turn about the body's x axis, (1, 1, 0, 0) / sqrt(2).
        turned = xp.stack([w - x, w + x, y + z, z - y], axis=-1) / np.sqrt(2.0)
        raised = pose[..., :3] + xp.asarray([0.0, 0.0, bound.constants["rise"]], dtype=qpos.dtype)
        on_side = xp.concat([raised, turned], axis=-1)
        pose = xp.where(turn[..., None], on_side, pose)
        return put_free_pose(qpos, bound.constants["qpos"], pose), goal
