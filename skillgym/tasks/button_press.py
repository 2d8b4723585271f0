"""ButtonPress: walk up to a wall and press its button with the left wrist (walk + reach)."""

from __future__ import annotations

import dataclasses

import mujoco
import numpy as np

from skillgym.core.arrays import Array, norm, uniform, xp_of
from skillgym.core.snapshot import Snapshot
from skillgym.core.task import EpisodeState
from skillgym.tasks.base import BenchConfig, HumanoidBenchTask, bench_weights

WALL_DISTANCE = 1.5  # m from the robot's start to the wall
BUTTON_TRAVEL = 0.03  # m, the press joint's range
REACH_AHEAD = 0.1  # m the left wrist reaches beyond its default spot, within Reach's region


@dataclasses.dataclass(frozen=True)
class ButtonPressConfig(BenchConfig):
    lateral_range: tuple[float, float] = (-0.5, 0.5)  # m, the button's y relative to the robot
    press_depth: float = 0.02  # m, for success
    # m: a press counts as the left hand's while its wrist is this near the button's face (and
    # nearer it than the right wrist). The hand ends a few cm past the wrist and may touch the
    # 8 cm cap anywhere, so a press by the hand leaves the wrist within about 12 cm.
    hand_reach: float = 0.15


class ButtonPress(HumanoidBenchTask):
    """The wall is static, so the robot starts shifted sideways; the button stays 1.1 m high."""

    name = "ButtonPress"
    props = (("wall", "wall_button", (WALL_DISTANCE, 0.0, 0.0)),)
    goal_size = 3  # world position of the button face at rest
    goal_uniforms = 1
    metric_names = ("wrist_error", "press_depth")
    success_rule = (
        "button on a wall 1.5 m ahead pressed 2 cm deep by the left hand for 0.2 s, no fall"
    )
    config: ButtonPressConfig

    @classmethod
    def default_config(cls) -> ButtonPressConfig:
        return ButtonPressConfig(
            episode_seconds=8.0, hold_seconds=0.2, reward_weights=bench_weights(press=3.0)
        )

    def bind(self, model: mujoco.MjModel) -> None:
        super().bind(model)
        self.button = model.site("wall/button").id
        self.press_qpos = int(model.jnt_qposadr[model.joint("wall/press").id])
        data = mujoco.MjData(model)
        mujoco.mj_forward(model, data)
        self.button_rest = data.site_xpos[self.button].copy()
        self.pressing_wrist, self.other_wrist = self.robot.wrist_sites  # the left wrist presses

    def sample_episode(self, u: Array, qpos: Array) -> tuple[Array, Array]:
        xp = xp_of(u)
        lateral = uniform(u[..., 0], *self.config.lateral_range)
        qpos = self.place_robot(qpos, xp.asarray(self.button_rest[1]) - lateral)
        return qpos, xp.asarray(self.button_rest) + xp.zeros(u.shape[:-1] + (3,))

    def press_depth(self, snap: Snapshot) -> Array:
        return snap.qpos[..., self.press_qpos]

    def error(self, snap: Snapshot, state: EpisodeState) -> Array:
        return norm(state.goal - snap.site_xpos[..., self.sites[self.pressing_wrist], :])

    def metrics(self, snap: Snapshot, state: EpisodeState) -> Array:
        xp = xp_of(snap.qpos)
        return xp.stack([self.error(snap, state), self.press_depth(snap)], axis=-1)

    def by_hand(self, snap: Snapshot) -> Array:
        """Whether what presses the button is the left hand: its wrist within `hand_reach` of
        the button's face, and nearer it than the right wrist. The feet and the other hand
        collide with the button too."""
        button = snap.site_xpos[..., self.button, :]
        pressing = norm(snap.site_xpos[..., self.sites[self.pressing_wrist], :] - button)
        other = norm(snap.site_xpos[..., self.sites[self.other_wrist], :] - button)
        return (pressing <= self.config.hand_reach) & (pressing < other)

    def reached(self, snap: Snapshot, state: EpisodeState) -> Array:
        """The button pressed `press_depth` deep, by the left hand."""
        return (self.press_depth(snap) >= self.config.press_depth) & self.by_hand(snap)

    def approach_distance(self, snap: Snapshot, state: EpisodeState) -> Array:
        return self.error(snap, state)

    def goal_observation(self, snap: Snapshot, state: EpisodeState) -> Array:
        xp = xp_of(snap.qpos)
        to_button = state.goal - snap.site_xpos[..., self.sites[self.pressing_wrist], :]
        depth = self.press_depth(snap)[..., None] / BUTTON_TRAVEL
        return xp.concat([self.heading(snap, to_button), depth], axis=-1)

    def skill_reward_terms(self) -> dict:
        return {**super().skill_reward_terms(), "press": press}

    def skill_goals(self, snap: Snapshot, state: EpisodeState) -> dict[str, Array]:
        """Walk to where the left wrist, at its default spot ahead of the pelvis plus
        `REACH_AHEAD`, meets the button, facing the wall; press it in with the left wrist while
        the right one stays."""
        xp = xp_of(snap.qpos)
        pushed_in = state.goal + xp.asarray([self.config.press_depth + 0.01, 0.0, 0.0])
        other_wrist = snap.site_xpos[..., self.sites[self.other_wrist], :]
        wrist = self.home_local(self.pressing_wrist)
        spot = state.goal - xp.asarray([wrist[0] + REACH_AHEAD, wrist[1], 0.0])
        return {
            "Walk": self.walk_goal(snap, spot, 0.0, facing=0.0),
            "Reach": self.reach_goal(snap, xp.stack([pushed_in, other_wrist], axis=-2)),
        }

    def markers(self, data: mujoco.MjData, state: EpisodeState) -> np.ndarray:
        return np.asarray(state.goal)[None]


def press(task: ButtonPress, snap: Snapshot, state: EpisodeState, action: Array) -> Array:
    """How far the button is in, as a fraction of the depth that counts."""
    return xp_of(snap.qpos).clip(task.press_depth(snap) / task.config.press_depth, 0.0, 1.0)
