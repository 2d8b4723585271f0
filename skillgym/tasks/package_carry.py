"""PackageCarry: pick a package off a low platform and carry it to a goal 0.3 to 1 m ahead and
0.3 to 0.6 m up (walk + reach + squat)."""

from __future__ import annotations

import dataclasses

import mujoco
import numpy as np

from skillgym.core.arrays import Array, norm, uniform, xp_of
from skillgym.core.snapshot import Snapshot
from skillgym.core.task import EpisodeState
from skillgym.tasks.base import bench_weights
from skillgym.tasks.package_lift import PACKAGE_REST_Z, PackageConfig, PackageTask


@dataclasses.dataclass(frozen=True)
class PackageCarryConfig(PackageConfig):
    tolerance: float = 0.1  # m, package centre from its goal
    ahead_range: tuple[float, float] = (0.3, 1.0)  # m, the goal ahead of the package's start
    approach_scale: float = 1.0


class PackageCarry(PackageTask):
    """The platform stands between the start and the goal: the robot has to lift the package
    and walk around it."""

    name = "PackageCarry"
    goal_size = 3  # world xyz of the package centre's goal
    goal_uniforms = 4
    metric_names = ("package_goal_error",)
    success_rule = "package centre within 10 cm of its goal for 0.5 s, no fall"
    config: PackageCarryConfig

    @classmethod
    def default_config(cls) -> PackageCarryConfig:
        return PackageCarryConfig(episode_seconds=15.0, reward_weights=bench_weights())

    def sample_episode(self, u: Array, qpos: Array) -> tuple[Array, Array]:
        xp = xp_of(u)
        qpos = self.place_package(qpos, u[..., 0:2])
        start = qpos[..., self.prop_qpos["package"] : self.prop_qpos["package"] + 3]
        ahead = uniform(u[..., 2], *self.config.ahead_range)
        up = uniform(u[..., 3], *self.config.lift_range)
        return qpos, start + xp.stack([ahead, xp.zeros_like(ahead), up], axis=-1)

    def error(self, snap: Snapshot, state: EpisodeState) -> Array:
        return norm(self.package(snap) - state.goal)

    def goal_observation(self, snap: Snapshot, state: EpisodeState) -> Array:
        xp = xp_of(snap.qpos)
        package = self.relative(snap, self.package(snap))
        return xp.concat([self.relative(snap, state.goal), package], axis=-1)

    def skill_goals(self, snap: Snapshot, state: EpisodeState) -> dict[str, Array]:
        """Lift the package first; once it is clear of the platform, walk it to the goal."""
        xp = xp_of(snap.qpos)
        package = self.package(snap)
        carrying = package[..., 2] > PACKAGE_REST_Z + 0.1
        destination = xp.where(carrying[..., None], state.goal, package)
        return {
            "Walk": self.walk_goal(snap, destination, 0.4),
            **self.hold_goals(snap, state.goal[..., 2]),
        }

    def markers(self, data: mujoco.MjData, state: EpisodeState) -> np.ndarray:
        return np.asarray(state.goal)[None]
