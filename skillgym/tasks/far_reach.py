"""FarReach: walk, then put both wrists on targets up to 2 m away (walk + reach)."""

from __future__ import annotations

import dataclasses

import mujoco
import numpy as np

from skillgym.core.arrays import Array, norm, uniform, xp_of
from skillgym.core.snapshot import Snapshot
from skillgym.core.task import EpisodeState
from skillgym.tasks.base import BenchConfig, HumanoidBenchTask, bench_weights


@dataclasses.dataclass(frozen=True)
class FarReachConfig(BenchConfig):
    distance_range: tuple[float, float] = (0.3, 2.0)  # m the wrist targets move from home
    bearing_range: tuple[float, float] = (-np.pi / 2, np.pi / 2)  # rad, 0 straight ahead
    height_range: tuple[float, float] = (-0.2, 0.2)  # m, relative to the home wrist height


class FarReach(HumanoidBenchTask):
    """The default wrist pair, carried `distance` along `bearing` and turned to face it: the
    targets a robot that walked there and faces that way reaches at its natural pose."""

    name = "FarReach"
    goal_size = 6  # world xyz of the left, then the right wrist target
    goal_uniforms = 3
    metric_names = ("wrist_error",)
    success_rule = "both wrists within 5 cm of their targets (up to 2 m away) for 0.5 s"
    config: FarReachConfig

    @classmethod
    def default_config(cls) -> FarReachConfig:
        return FarReachConfig(episode_seconds=10.0, reward_weights=bench_weights())

    def bind(self, model: mujoco.MjModel) -> None:
        super().bind(model)
        self.home_wrists = self.home_site_xpos[[self.sites[s] for s in self.robot.wrist_sites]]

    def sample_episode(self, u: Array, qpos: Array) -> tuple[Array, Array]:
        xp = xp_of(u)
        distance = uniform(u[..., 0], *self.config.distance_range)[..., None]
        bearing = uniform(u[..., 1], *self.config.bearing_range)[..., None]
        height = uniform(u[..., 2], *self.config.height_range)[..., None]
        c, s = xp.cos(bearing), xp.sin(bearing)
        targets = []
        for x, y, z in self.home_wrists:
            targets += [c * x - s * y + distance * c, s * x + c * y + distance * s, z + height]
        return qpos, xp.concat(targets, axis=-1)

    def targets(self, state: EpisodeState) -> Array:
        goal = state.goal
        return xp_of(goal).reshape(goal, goal.shape[:-1] + (2, 3))

    def wrist_distances(self, snap: Snapshot, state: EpisodeState) -> Array:
        return norm(self.targets(state) - self.wrists(snap))

    def error(self, snap: Snapshot, state: EpisodeState) -> Array:
        return xp_of(snap.qpos).mean(self.wrist_distances(snap, state), axis=-1)

    def reached(self, snap: Snapshot, state: EpisodeState) -> Array:
        distances = self.wrist_distances(snap, state)
        return xp_of(distances).all(distances <= self.config.tolerance, axis=-1)

    def approach_distance(self, snap: Snapshot, state: EpisodeState) -> Array:
        xp = xp_of(snap.qpos)
        midpoint = xp.mean(self.targets(state), axis=-2)
        return norm(self.relative(snap, midpoint)[..., :2])

    def goal_observation(self, snap: Snapshot, state: EpisodeState) -> Array:
        errors = self.heading(snap, self.targets(state) - self.wrists(snap))
        return xp_of(errors).reshape(errors, errors.shape[:-2] + (6,))

    def skill_goals(self, snap: Snapshot, state: EpisodeState) -> dict[str, Array]:
        """Walk to where the pelvis stands when its wrists hang at the targets, facing the way
        the targets face (their left-to-right line turned as the default pair's), and reach."""
        xp = xp_of(snap.qpos)
        targets = self.targets(state)
        across = targets[..., 0, :2] - targets[..., 1, :2]  # right wrist to left, turned
        home_across = self.home_wrists[0, :2] - self.home_wrists[1, :2]
        facing = xp.atan2(across[..., 1], across[..., 0]) - np.arctan2(*home_across[::-1])
        c, s = xp.cos(facing), xp.sin(facing)
        home_mid = self.home_wrists[:, :2].mean(axis=0) - self.home_site_xpos[self.pelvis, :2]
        middle = xp.mean(targets, axis=-2)
        x = middle[..., 0] - (c * home_mid[0] - s * home_mid[1])
        y = middle[..., 1] - (s * home_mid[0] + c * home_mid[1])
        spot = xp.concat([x[..., None], y[..., None], middle[..., 2:]], axis=-1)
        return {
            "Walk": self.walk_goal(snap, spot, 0.0, facing=facing),
            "Reach": self.reach_goal(snap, targets),
        }

    def markers(self, data: mujoco.MjData, state: EpisodeState) -> np.ndarray:
        return np.asarray(state.goal).reshape(2, 3)
