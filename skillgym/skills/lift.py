"""Arm Lift: pick an object up off the table and hold it there.

Each episode puts one of the objects on the table, the others stay parked off the table. The
flat 15 x 10 x 6 cm box is wider than the gripper opens (8 cm) while it lies flat, so lifting
it takes more than a top grasp: push it over the table edge, or tip it on its side first.
"""

from __future__ import annotations

import dataclasses

import mujoco
import numpy as np

from skillgym.core.arrays import Array, in_frame, norm, relative_rotation, xp_of
from skillgym.core.privileges import ObjectOnSide, Privilege, SquaredYaw
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

# Resting heights of the object centres above the table top.
HALF_HEIGHTS = {"box_small": 0.025, "box_flat": 0.03}


@dataclasses.dataclass(frozen=True)
class LiftConfig(ArmTaskConfig):
    lift_height: float = 0.10  # m above the resting height, for success
    flat_box_probability: float = 0.5
    # m, of the two 1 - tanh(x / scale) factors of `jaw_fits`: the grip's distance to the
    # object, and how much wider than the jaw opens the object lies across it.
    jaw_near_scale: float = 0.1
    jaw_fit_scale: float = 0.1
    privileges: tuple[Privilege, ...] = (
        *OBJECT_PRIVILEGES,
        SquaredYaw(object="flat"),
        ObjectOnSide(object="flat"),
    )


class Lift(ArmSkill):
    name = "Lift"
    objects = (("box", "box_small"), ("flat", "box_flat"))
    goal_size = 1 + len(objects)  # lift height, one-hot of the object on the table
    goal_layout = (("lift_height", "m"), *((f"is_{name}", "1") for name, _ in objects))
    goal_uniforms = 4
    metric_names = ("height_error",)
    success_rule = (
        "object at least 10 cm above the table for 1 s (the flat box in half the episodes)"
    )
    config: LiftConfig

    @classmethod
    def default_config(cls) -> LiftConfig:
        return LiftConfig(
            episode_seconds=6.0,
            hold_seconds=1.0,
            reward_weights=arm_weights(
                reach_object=1.0,
                lift=4.0,
                goal_reached=2.0,
                flat_box_on_side=1.0,
                jaw_fits=1.0,
            ),
        )

    def bind(self, model: mujoco.MjModel) -> None:
        super().bind(model)
        self.centers = [model.site(f"{name}/center").id for name, _ in self.objects]
        self.rest_heights = np.array([HALF_HEIGHTS[prop] for _, prop in self.objects])
        self.half_sizes = np.array([model.geom(f"{name}/geom").size for name, _ in self.objects])
        self.flat = [name for name, _ in Lift.objects].index("flat")  # whatever it is bound to

    def sample_episode(self, u: Array, qpos: Array) -> tuple[Array, Array]:
        xp = xp_of(u)
        flat = u[..., 0] < self.config.flat_box_probability
        onehot = xp.stack([~flat, flat], axis=-1)
        xy = self.table_xy(u[..., 1:3])
        yaw = 2 * np.pi * u[..., 3]
        for i in range(len(self.objects)):
            z = xp.full(xy.shape[:-1] + (1,), self.robot.table_height + self.rest_heights[i] + 1e-3)
            parked = qpos[..., self.object_qpos[i] : self.object_qpos[i] + 3]
            on_table = xp.concat([xy, z], axis=-1)
            xyz = xp.where(onehot[..., i : i + 1], on_table, parked)
            qpos = self.place_object(qpos, i, xyz, xp.where(onehot[..., i], yaw, 0.0 * yaw))
        height = xp.full(xy.shape[:-1] + (1,), self.config.lift_height)
        return qpos, xp.concat([height, xp.astype(onehot, u.dtype)], axis=-1)

    def selected(self, values: Array, state: EpisodeState) -> Array:
        """Pick the active object's entry from per-object values stacked on axis -2."""
        xp = xp_of(values)
        return xp.sum(values * state.goal[..., 1:, None], axis=-2)

    def active_object_pos(self, snap: Snapshot, state: EpisodeState) -> Array:
        xp = xp_of(snap.xpos)
        positions = xp.stack([self.object_pos(snap, i) for i in range(len(self.objects))], axis=-2)
        return self.selected(positions, state)

    def lift_height(self, snap: Snapshot, state: EpisodeState) -> Array:
        """How far the active object's centre is above its resting height."""
        xp = xp_of(snap.xpos)
        rest = xp.sum(xp.asarray(self.rest_heights) * state.goal[..., 1:], axis=-1)
        return self.active_object_pos(snap, state)[..., 2] - self.robot.table_height - rest

    def clearance(self, snap: Snapshot, state: EpisodeState) -> Array:
        """How far the active object's lowest corner is above the table: zero for an object
        tipped or stood on end, which raises its centre without lifting it."""
        xp = xp_of(snap.site_xmat)
        heights = []
        for center, half in zip(self.centers, self.half_sizes, strict=True):
            up = xp.abs(snap.site_xmat[..., center, 6:9])  # |world z . object axis k|
            lowest = snap.site_xpos[..., center, 2] - xp.sum(xp.asarray(half) * up, axis=-1)
            heights.append(lowest - self.robot.table_height)
        return self.selected(xp.stack(heights, axis=-1)[..., None], state)[..., 0]

    def extent_along_jaw(self, snap: Snapshot, state: EpisodeState) -> Array:
        """How wide the active object is along the jaw's closing axis (the hand's y): what the
        open jaw has to span for a grasp in its current orientation."""
        xp = xp_of(snap.site_xmat)
        jaw = snap.site_xmat[..., self.grip, 1::3]  # the hand's y axis in world coordinates
        extents = []
        for center, half in zip(self.centers, self.half_sizes, strict=True):
            rows = snap.site_xmat[..., center, :]
            along = sum(jaw[..., i : i + 1] * rows[..., 3 * i : 3 * i + 3] for i in range(3))
            extents.append(2.0 * xp.sum(xp.asarray(half) * xp.abs(along), axis=-1))
        return self.selected(xp.stack(extents, axis=-1)[..., None], state)[..., 0]

    def object_observation(self, snap: Snapshot, state: EpisodeState) -> Array:
        """Where the object is and how it is turned, in the world and in the hand's frame: a
        grasp depends on how the object sits between the pads, which the joint angles say only
        through the arm's kinematics."""
        xp = xp_of(snap.xpos)
        orientation = xp.stack([snap.site_xmat[..., c, :] for c in self.centers], axis=-2)
        offset = self.active_object_pos(snap, state) - self.grip_pos(snap)
        object_xmat = self.selected(orientation, state)
        hand_xmat = snap.site_xmat[..., self.grip, :]
        return xp.concat(
            [
                offset,
                self.lift_height(snap, state)[..., None],
                object_xmat,
                in_frame(hand_xmat, offset),
                relative_rotation(hand_xmat, object_xmat),
            ],
            axis=-1,
        )

    def skill_reward_terms(self) -> dict:
        return {
            "reach_object": reach_object,
            "lift": lift,
            "goal_reached": goal_reached,
            "flat_box_on_side": flat_box_on_side,
            "jaw_fits": jaw_fits,
        }

    def metrics(self, snap: Snapshot, state: EpisodeState) -> Array:
        xp = xp_of(snap.xpos)
        shortfall = state.goal[..., 0] - self.lift_height(snap, state)
        return xp.clip(shortfall, 0.0, None)[..., None]

    def reached(self, snap: Snapshot, state: EpisodeState) -> Array:
        return self.lift_height(snap, state) >= state.goal[..., 0]

    def markers(self, data: mujoco.MjData, state: EpisodeState) -> np.ndarray:
        active = int(np.argmax(np.asarray(state.goal)[1:]))
        target = data.xpos[self.object_body[active]].copy()
        target[2] = self.robot.table_height + self.rest_heights[active] + float(state.goal[0])
        return target[None]


def lift(task: Lift, snap: Snapshot, state: EpisodeState, action: Array) -> Array:
    xp = xp_of(snap.xpos)
    return xp.clip(task.clearance(snap, state) / state.goal[..., 0], 0.0, 1.0)


def flat_box_on_side(task: Lift, snap: Snapshot, state: EpisodeState, action: Array) -> Array:
    """In flat-box episodes, how far the box's thinnest axis is from vertical: 0 lying flat, 1
    stood on its side or end, where its 6 cm fit the jaw for a top grasp. The step before a
    lift that the box lying flat leaves no room for."""
    xp = xp_of(snap.site_xmat)
    thin_axis_up = snap.site_xmat[..., task.centers[task.flat], 8]  # world z . box z
    return (1.0 - xp.abs(thin_axis_up)) * state.goal[..., 1 + task.flat]


def jaw_fits(task: Lift, snap: Snapshot, state: EpisodeState, action: Array) -> Array:
    """Near the object, whether the jaw is turned so the object fits between its pads. The flat
    box lying flat fits only a vertical jaw (pinching its 6 cm where it overhangs an edge, or
    through a lowered robot table) or, once stood on its side, a jaw across its thickness; a top
    grasp at the small box's yaw never shows a policy that, so the turn is paid on its own. Both
    scales are wide: a jaw along the box's 15 cm, the habit to break, still feels the slope."""
    xp = xp_of(snap.site_xpos)
    too_wide = xp.clip(task.extent_along_jaw(snap, state) - task.robot.jaw_opening, 0.0, None)
    distance = norm(task.active_object_pos(snap, state) - task.grip_pos(snap))
    near = distance_reward(distance, task.config.jaw_near_scale)
    return near * distance_reward(too_wide, task.config.jaw_fit_scale)
