"""PivotGrasp (arm): the flat box starts near a wall on the table edge, which stops it being
pushed off; it has to be pivoted up against the wall onto its side, then grasped and lifted to
a goal in the air."""

from __future__ import annotations

import dataclasses

import mujoco

from skillgym.tasks.push_grasp_lift import (
    FlatBoxConfig,
    PushGraspLift,
    flat_box_weights,
)

WALL_HALF_THICKNESS = 0.01


@dataclasses.dataclass(frozen=True)
class PivotGraspConfig(FlatBoxConfig):
    box_low: tuple[float, float] = (-0.15, -0.2)  # m, near the wall along the y = -0.35 edge
    box_high: tuple[float, float] = (0.1, -0.05)


class PivotGrasp(PushGraspLift):
    name = "PivotGrasp"
    success_rule = (
        "flat box, against a wall that stops pushing it off, within 3 cm of a goal in the air "
        "for 0.5 s"
    )
    config: PivotGraspConfig

    @classmethod
    def default_config(cls) -> PivotGraspConfig:
        return PivotGraspConfig(episode_seconds=12.0, reward_weights=flat_box_weights())

    def build_spec(self) -> mujoco.MjSpec:
        from skillgym.assets import add_prop

        spec = super().build_spec()
        wall_y = -(self.robot.table_half_width + WALL_HALF_THICKNESS)
        add_prop(spec, "edge_wall", "wall", pos=(0.0, wall_y, self.robot.table_height))
        return spec
