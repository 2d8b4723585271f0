"""BoxTransfer: lift a box off a table in front and set it down on a table behind
(walk + reach)."""

from __future__ import annotations

import dataclasses

import mujoco
import numpy as np

from skillgym.core.arrays import Array, norm, xp_of
from skillgym.core.snapshot import Snapshot
from skillgym.core.task import EpisodeState
from skillgym.tasks.base import bench_weights
from skillgym.tasks.box_push import BOX_HALF, BOX_REST_Z, TABLE_X, BoxOnTableConfig, BoxOnTableTask

LIFTED = BOX_REST_Z + 0.05  # m, a box centre above this is off the table, in the hands


@dataclasses.dataclass(frozen=True)
class BoxTransferConfig(BoxOnTableConfig):
    tolerance: float = 0.1  # m, box centre from its goal
    goal_low: tuple[float, float] = (-0.8, -0.3)  # m, xy of the goal on the back table
    goal_high: tuple[float, float] = (-0.5, 0.3)
    approach_scale: float = 1.0
    drop_depth: float = 0.3  # m below the box centre's resting height: the box is on the floor


class BoxTransfer(BoxOnTableTask):
    name = "BoxTransfer"
    props = (
        ("front", "table", (TABLE_X, 0.0, 0.0)),
        ("back", "table", (-TABLE_X, 0.0, 0.0)),
        ("box", "box_large", (0.55, 0.0, BOX_REST_Z)),
    )
    goal_size = 3  # world xyz of the box centre resting at its goal on the back table
    goal_uniforms = 4
    metric_names = ("box_goal_error",)
    success_rule = "box resting on the back table within 10 cm of its goal for 0.5 s, no fall"
    config: BoxTransferConfig

    @classmethod
    def default_config(cls) -> BoxTransferConfig:
        return BoxTransferConfig(episode_seconds=15.0, reward_weights=bench_weights())

    def sample_episode(self, u: Array, qpos: Array) -> tuple[Array, Array]:
        xp = xp_of(u)
        qpos, xy = self.sample_box_and_goal(u, qpos)
        return qpos, xp.concat([xy, xp.full(xy.shape[:-1] + (1,), BOX_REST_Z)], axis=-1)

    def error(self, snap: Snapshot, state: EpisodeState) -> Array:
        return norm(self.box(snap) - state.goal)

    def dropped(self, snap: Snapshot, state: EpisodeState) -> Array:
        return self.box(snap)[..., 2] < BOX_REST_Z - self.config.drop_depth

    def goal_observation(self, snap: Snapshot, state: EpisodeState) -> Array:
        xp = xp_of(snap.qpos)
        box = self.relative(snap, self.box(snap))
        return xp.concat([self.relative(snap, state.goal), box], axis=-1)

    def skill_goals(self, snap: Snapshot, state: EpisodeState) -> dict[str, Array]:
        """Walk to the box, squeeze it between the wrists and raise it; once it is off the table,
        walk to the goal and lower it there."""
        xp = xp_of(snap.qpos)
        box = self.box(snap)
        carrying = box[..., 2] > LIFTED
        destination = xp.where(carrying[..., None], state.goal, box)
        lift_off = xp.full_like(box[..., 2], 0.1)
        raise_by = xp.where(carrying, state.goal[..., 2] - box[..., 2], lift_off)
        hands = self.side_points(snap, box, BOX_HALF + 0.02, raise_by)
        return {
            "Walk": self.walk_goal(snap, destination, BOX_HALF + 0.3),
            "Reach": self.reach_goal(snap, hands),
        }

    def markers(self, data: mujoco.MjData, state: EpisodeState) -> np.ndarray:
        return np.asarray(state.goal)[None]
