"""Reach: put both wrists on targets in space around their default positions."""

from __future__ import annotations

import dataclasses

import mujoco
import numpy as np

from skillgym.core.arrays import Array, norm, xp_of
from skillgym.skills.humanoid import HumanoidSkill, humanoid_weights
from skillgym.skills.site_targets import SiteTargets, SiteTargetsConfig


@dataclasses.dataclass(frozen=True)
class ReachConfig(SiteTargetsConfig):
    # The default pose holds the arms almost straight, so half the points near a wrist lie
    # beyond the arm's length; targets are kept within this fraction of it from the shoulder.
    reach_fraction: float = 0.95


class Reach(SiteTargets):
    name = "Reach"
    fixed_in_world = False
    dims = 3
    goal_size = 6
    # Wrist targets from the pelvis, in its heading frame.
    goal_layout = tuple(
        (f"{side}_wrist_{axis}", "m") for side in ("left", "right") for axis in "xyz"
    )
    goal_uniforms = 6
    metric_names = ("wrist_error",)
    success_rule = "both wrists within 5 cm of their targets for 0.5 s"
    config: ReachConfig

    @classmethod
    def default_config(cls) -> ReachConfig:
        return ReachConfig(
            episode_seconds=4.0,
            reward_weights=humanoid_weights(track_targets=3.0, hold_targets=3.0, posture=0.1),
        )

    @property
    def target_sites(self) -> tuple[str, str]:
        return self.robot.wrist_sites

    def bind(self, model: mujoco.MjModel) -> None:
        super().bind(model)
        self.shoulders, self.max_reach = arm_reach(self, model, self.config.reach_fraction)

    def sample_episode(self, u: Array, qpos: Array) -> tuple[Array, Array]:
        qpos, targets = super().sample_episode(u, qpos)
        points = xp_of(targets).reshape(targets, targets.shape[:-1] + (2, 3))
        points = within_reach(points, self.shoulders, self.max_reach)
        return qpos, xp_of(points).reshape(points, targets.shape)


def arm_reach(
    task: HumanoidSkill, model: mujoco.MjModel, fraction: float
) -> tuple[np.ndarray, np.ndarray]:
    """The shoulders relative to the pelvis at the default pose (like `local`), (2, 3), and
    `fraction` of each arm's length, shoulder to elbow to wrist, (2,)."""
    data, robot = task.home_data, task.robot
    pelvis = data.site_xpos[task.pelvis]
    shoulders, lengths = [], []
    arms = zip(robot.shoulder_joints, robot.elbow_joints, robot.wrist_sites, strict=True)
    for shoulder_joint, elbow_joint, wrist_site in arms:
        shoulder = data.xanchor[model.joint(shoulder_joint).id]
        elbow = data.xanchor[model.joint(elbow_joint).id]
        wrist = data.site_xpos[task.sites[wrist_site]]
        shoulders.append(shoulder - pelvis)
        lengths.append(np.linalg.norm(elbow - shoulder) + np.linalg.norm(wrist - elbow))
    return np.stack(shoulders), fraction * np.array(lengths)


def within_reach(points: Array, shoulders: np.ndarray, max_reach: np.ndarray) -> Array:
    """Wrist targets (..., 2, 3) pulled towards their shoulders where they lie out of reach."""
    xp = xp_of(points)
    shoulders = xp.asarray(shoulders, dtype=points.dtype)
    from_shoulder = points - shoulders
    pull = xp.minimum(1.0, xp.asarray(max_reach, dtype=points.dtype) / norm(from_shoulder))
    return shoulders + pull[..., None] * from_shoulder
