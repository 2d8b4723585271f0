"""CabinetClose: walk to a cabinet with both doors open and push them shut (walk + reach)."""

from __future__ import annotations

import dataclasses

import mujoco
import numpy as np

from skillgym.core.arrays import Array, norm, put, uniform, xp_of
from skillgym.core.snapshot import Snapshot
from skillgym.core.task import EpisodeState
from skillgym.tasks.base import BenchConfig, HumanoidBenchTask, bench_weights

CABINET_X = 1.3  # m ahead of the robot's start; the closed doors' front is 0.22 m nearer
DOORS = ("left", "right")
# m from the closed doors' front to where the pelvis stops: the handles of closed doors are then
# within the hands' reach, and the open doors within the arms' sweep.
STAND_OFF = 0.35


@dataclasses.dataclass(frozen=True)
class CabinetCloseConfig(BenchConfig):
    tolerance: float = 0.1  # rad, for each door
    open_range: tuple[float, float] = (0.5, 1.5)  # rad, initial door angles (1.57 fully open)
    lateral_range: tuple[float, float] = (-0.2, 0.2)  # m, the cabinet's y relative to the robot


class CabinetClose(HumanoidBenchTask):
    name = "CabinetClose"
    props = (("cabinet", "cabinet", (CABINET_X, 0.0, 0.0)),)
    goal_size = 2  # target angles of the left and right door (closed: 0)
    goal_uniforms = 3
    metric_names = ("door_angle_error",)
    success_rule = "both cabinet doors within 0.1 rad of closed for 0.5 s, no fall"
    config: CabinetCloseConfig

    @classmethod
    def default_config(cls) -> CabinetCloseConfig:
        return CabinetCloseConfig(
            episode_seconds=10.0, error_scale=0.5, reward_weights=bench_weights()
        )

    def bind(self, model: mujoco.MjModel) -> None:
        super().bind(model)
        self.hinge_qpos = np.array(
            [model.jnt_qposadr[model.joint(f"cabinet/{door}_hinge").id] for door in DOORS]
        )
        self.handles = [model.site(f"cabinet/{door}_handle").id for door in DOORS]
        self.front = np.array([CABINET_X - 0.22, 0.0, 0.5])

    def sample_episode(self, u: Array, qpos: Array) -> tuple[Array, Array]:
        xp = xp_of(u)
        qpos = put(qpos, self.hinge_qpos, uniform(u[..., 0:2], *self.config.open_range))
        qpos = self.place_robot(qpos, -uniform(u[..., 2], *self.config.lateral_range))
        return qpos, xp.zeros(u.shape[:-1] + (2,))

    def angle_errors(self, snap: Snapshot, state: EpisodeState) -> Array:
        return xp_of(snap.qpos).abs(snap.qpos[..., self.hinge_qpos] - state.goal)

    def error(self, snap: Snapshot, state: EpisodeState) -> Array:
        return xp_of(snap.qpos).mean(self.angle_errors(snap, state), axis=-1)

    def reached(self, snap: Snapshot, state: EpisodeState) -> Array:
        errors = self.angle_errors(snap, state)
        return xp_of(errors).all(errors <= self.config.tolerance, axis=-1)

    def handle_pos(self, snap: Snapshot) -> Array:
        """World positions of the left and right door handle, (..., 2, 3)."""
        return xp_of(snap.site_xpos).stack(
            [snap.site_xpos[..., h, :] for h in self.handles], axis=-2
        )

    def approach_distance(self, snap: Snapshot, state: EpisodeState) -> Array:
        distances = norm(self.handle_pos(snap) - self.wrists(snap))
        return xp_of(distances).mean(distances, axis=-1)

    def goal_observation(self, snap: Snapshot, state: EpisodeState) -> Array:
        xp = xp_of(snap.qpos)
        handles = self.relative(snap, self.handle_pos(snap))
        door_errors = snap.qpos[..., self.hinge_qpos] - state.goal
        return xp.concat([door_errors, xp.reshape(handles, handles.shape[:-2] + (6,))], axis=-1)

    def skill_goals(self, snap: Snapshot, state: EpisodeState) -> dict[str, Array]:
        xp = xp_of(snap.qpos)
        front = xp.asarray(self.front) + xp.zeros(snap.qpos.shape[:-1] + (3,))
        return {
            "Walk": self.walk_goal(snap, front, STAND_OFF),
            "Reach": self.reach_goal(snap, self.handle_pos(snap)),
        }

    def markers(self, data: mujoco.MjData, state: EpisodeState) -> np.ndarray:
        return self.front[None]
