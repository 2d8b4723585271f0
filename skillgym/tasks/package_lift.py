"""PackageLift: squat to a package on a low platform, squeeze it between the wrists and lift
it by 0.3 to 0.6 m (reach + squat)."""

from __future__ import annotations

import dataclasses

import mujoco
import numpy as np

from skillgym.core.arrays import Array, uniform, xp_of
from skillgym.core.snapshot import Snapshot
from skillgym.core.task import EpisodeState
from skillgym.tasks.base import BenchConfig, HumanoidBenchTask, bench_weights

PLATFORM_X = 0.5  # m ahead of the robot's start
PLATFORM_TOP = 0.3  # m
PACKAGE_HALF_WIDTH = 0.125  # m, across the robot (y)
PACKAGE_REST_Z = PLATFORM_TOP + 0.125 + 1e-3
PACKAGE_PROPS = (
    ("platform", "platform", (PLATFORM_X, 0.0, 0.0)),
    ("package", "package", (PLATFORM_X, 0.0, PACKAGE_REST_Z)),
)


@dataclasses.dataclass(frozen=True)
class PackageConfig(BenchConfig):
    package_low: tuple[float, float] = (PLATFORM_X - 0.03, -0.05)  # m, xy of its start
    package_high: tuple[float, float] = (PLATFORM_X + 0.03, 0.05)
    lift_range: tuple[float, float] = (0.3, 0.6)  # m, how far above its start it must go
    # Of the platform's height: a package centre below this fraction of it is on the floor.
    drop_fraction: float = 0.6


class PackageTask(HumanoidBenchTask):
    """A package on a platform: where it starts, and how two wrists hold it."""

    props = PACKAGE_PROPS
    config: PackageConfig

    def place_package(self, qpos: Array, u: Array) -> Array:
        xp = xp_of(u)
        low, high = xp.asarray(self.config.package_low), xp.asarray(self.config.package_high)
        xy = uniform(u, low, high)
        xyz = xp.concat([xy, xp.full(xy.shape[:-1] + (1,), PACKAGE_REST_Z)], axis=-1)
        return self.place_prop(qpos, "package", xyz)

    def package(self, snap: Snapshot) -> Array:
        return self.prop_pos(snap, "package")

    def approach_distance(self, snap: Snapshot, state: EpisodeState) -> Array:
        return self.hands_to(snap, self.package(snap))

    def hold_goals(self, snap: Snapshot, target_z: Array) -> dict[str, Array]:
        """Wrists on the package's sides, raised at most 10 cm a step towards `target_z`; the
        pelvis low enough to bring the wrists to the package."""
        xp = xp_of(snap.qpos)
        package = self.package(snap)
        raise_by = xp.clip(target_z - package[..., 2], -0.1, 0.1)
        hands = self.side_points(snap, package, PACKAGE_HALF_WIDTH + 0.02, raise_by)
        left_wrist = self.sites[self.robot.wrist_sites[0]]
        wrist_drop = float(self.home_site_xpos[left_wrist, 2]) - package[..., 2]
        return {
            "Reach": self.reach_goal(snap, hands),
            "Squat": self.squat_goal(self.robot.standing_height - wrist_drop),
        }

    def dropped(self, snap: Snapshot, state: EpisodeState) -> Array:
        return self.package(snap)[..., 2] < PLATFORM_TOP * self.config.drop_fraction


class PackageLift(PackageTask):
    name = "PackageLift"
    goal_size = 1  # world height of the package centre to reach
    goal_uniforms = 3
    metric_names = ("height_error",)
    success_rule = "package centre within 5 cm of its target height for 0.5 s, no fall"

    @classmethod
    def default_config(cls) -> PackageConfig:
        return PackageConfig(episode_seconds=8.0, reward_weights=bench_weights())

    def sample_episode(self, u: Array, qpos: Array) -> tuple[Array, Array]:
        qpos = self.place_package(qpos, u[..., 0:2])
        return qpos, PACKAGE_REST_Z + uniform(u[..., 2:3], *self.config.lift_range)

    def error(self, snap: Snapshot, state: EpisodeState) -> Array:
        return xp_of(snap.qpos).abs(self.package(snap)[..., 2] - state.goal[..., 0])

    def goal_observation(self, snap: Snapshot, state: EpisodeState) -> Array:
        xp = xp_of(snap.qpos)
        package = self.package(snap)
        to_target = state.goal - package[..., 2:3]
        return xp.concat([to_target, self.relative(snap, package)], axis=-1)

    def skill_goals(self, snap: Snapshot, state: EpisodeState) -> dict[str, Array]:
        return self.hold_goals(snap, state.goal[..., 0])

    def markers(self, data: mujoco.MjData, state: EpisodeState) -> np.ndarray:
        target = data.xpos[self.prop_body["package"]].copy()
        target[2] = float(np.asarray(state.goal)[0])
        return target[None]
