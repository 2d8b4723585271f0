"""BoxPush: push a box across a table to a goal on the table (walk + reach)."""

from __future__ import annotations

import dataclasses

import mujoco
import numpy as np

from skillgym.core.arrays import Array, norm, uniform, xp_of
from skillgym.core.snapshot import Snapshot
from skillgym.core.task import EpisodeState
from skillgym.tasks.base import BenchConfig, HumanoidBenchTask, bench_weights

TABLE_X = 0.75  # m ahead of the robot's start; the 0.8 m deep top begins 0.35 m ahead
TABLE_TOP = 0.75  # m
BOX_HALF = 0.15  # m, half the edge of the box_large prop
BOX_REST_Z = TABLE_TOP + BOX_HALF + 1e-3


@dataclasses.dataclass(frozen=True)
class BoxOnTableConfig(BenchConfig):
    box_low: tuple[float, float] = (0.5, -0.15)  # m, xy where the box starts, near table edge
    box_high: tuple[float, float] = (0.6, 0.15)
    goal_low: tuple[float, float] = (0.75, -0.35)  # m, xy of the box's goal
    goal_high: tuple[float, float] = (0.95, 0.35)
    # m, the box centre's height from where it rests on a table top, for success: a box lifted
    # off the table, or tipped onto an edge, is not resting on it.
    rest_tolerance: float = 0.02


class BoxOnTableTask(HumanoidBenchTask):
    """A box that starts on the front table and goes to a goal: where it starts, where its goal
    lies, and the hands' approach to it."""

    config: BoxOnTableConfig

    def sample_box_and_goal(self, u: Array, qpos: Array) -> tuple[Array, Array]:
        """qpos with the box on the front table from `u[..., 0:2]`, and the goal's xy from
        `u[..., 2:4]`, (..., 2)."""
        xp = xp_of(u)
        box_low, box_high = xp.asarray(self.config.box_low), xp.asarray(self.config.box_high)
        xy = uniform(u[..., 0:2], box_low, box_high)
        box = xp.concat([xy, xp.full(xy.shape[:-1] + (1,), BOX_REST_Z)], axis=-1)
        qpos = self.place_prop(qpos, "box", box)
        low, high = xp.asarray(self.config.goal_low), xp.asarray(self.config.goal_high)
        return qpos, uniform(u[..., 2:4], low, high)

    def box(self, snap: Snapshot) -> Array:
        return self.prop_pos(snap, "box")

    def approach_distance(self, snap: Snapshot, state: EpisodeState) -> Array:
        return self.hands_to(snap, self.box(snap))

    def resting(self, snap: Snapshot) -> Array:
        """Whether the box rests on a table top: its centre within `rest_tolerance` of the
        height it rests at there."""
        xp = xp_of(snap.qpos)
        return xp.abs(self.box(snap)[..., 2] - BOX_REST_Z) <= self.config.rest_tolerance

    def reached(self, snap: Snapshot, state: EpisodeState) -> Array:
        """The box within `tolerance` of its goal and resting on the table there."""
        return super().reached(snap, state) & self.resting(snap)


class BoxPush(BoxOnTableTask):
    name = "BoxPush"
    props = (("table", "table", (TABLE_X, 0.0, 0.0)), ("box", "box_large", (0.55, 0.0, BOX_REST_Z)))
    goal_size = 2  # world xy of the box's goal
    goal_uniforms = 4
    metric_names = ("box_goal_error",)
    success_rule = "box resting on the table within 5 cm of its goal for 0.5 s, no fall"

    @classmethod
    def default_config(cls) -> BoxOnTableConfig:
        return BoxOnTableConfig(episode_seconds=10.0, reward_weights=bench_weights())

    def sample_episode(self, u: Array, qpos: Array) -> tuple[Array, Array]:
        return self.sample_box_and_goal(u, qpos)

    def error(self, snap: Snapshot, state: EpisodeState) -> Array:
        return norm(self.box(snap)[..., :2] - state.goal)

    def dropped(self, snap: Snapshot, state: EpisodeState) -> Array:
        return self.box(snap)[..., 2] < TABLE_TOP

    def goal_observation(self, snap: Snapshot, state: EpisodeState) -> Array:
        xp = xp_of(snap.qpos)
        goal = xp.concat([state.goal, xp.full(state.goal.shape[:-1] + (1,), BOX_REST_Z)], axis=-1)
        return xp.concat([self.relative(snap, goal), self.relative(snap, self.box(snap))], axis=-1)

    def skill_goals(self, snap: Snapshot, state: EpisodeState) -> dict[str, Array]:
        """Stand behind the box on the line from its goal; both wrists on its back face."""
        xp = xp_of(snap.qpos)
        box = self.box(snap)
        to_goal = state.goal - box[..., :2]
        direction = to_goal / (norm(to_goal)[..., None] + 1e-9)
        push_dir = xp.concat([direction, xp.zeros_like(direction[..., :1])], axis=-1)
        back_face = box - (BOX_HALF + 0.03) * push_dir
        hands = self.side_points(snap, back_face, 0.1, xp.zeros_like(box[..., 0]))
        return {
            "Walk": self.walk_goal(snap, box - 0.5 * push_dir, 0.0),
            "Reach": self.reach_goal(snap, hands),
        }

    def markers(self, data: mujoco.MjData, state: EpisodeState) -> np.ndarray:
        return np.array([[*np.asarray(state.goal), TABLE_TOP + 0.005]])
