"""Reach: put both wrists on targets in space around their default positions."""

from __future__ import annotations

import dataclasses

import mujoco
import numpy as np

from skillgym.envs.frame import Array, norm, xp_of
from skillgym.skills.humanoid import humanoid_weights
from skillgym.skills.site_targets import SiteTargets, SiteTargetsConfig

SIDES = ("left", "right")


@dataclasses.dataclass(frozen=True)
class ReachConfig(SiteTargetsConfig):
    # The default pose holds the arms almost straight, so half the points near a wrist lie
    # beyond the arm's length; targets are kept within this fraction of it from the shoulder.
    reach_fraction: float = 0.95


class Reach(SiteTargets):
    name = "Reach"
    target_sites = ("left_wrist", "right_wrist")
    fixed_in_world = False
    dims = 3
    goal_size = 6
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

    def bind(self, model: mujoco.MjModel) -> None:
        super().bind(model)
        data = self.home_data
        pelvis = data.site_xpos[self.sites["pelvis"]]
        shoulders, lengths = [], []
        for side in SIDES:
            shoulder = data.xanchor[model.joint(f"{side}_shoulder_roll").id]
            elbow = data.xanchor[model.joint(f"{side}_elbow").id]
            wrist = data.site_xpos[self.sites[f"{side}_wrist"]]
            shoulders.append(shoulder - pelvis)
            lengths.append(np.linalg.norm(elbow - shoulder) + np.linalg.norm(wrist - elbow))
        self.shoulders = np.stack(shoulders)  # (2, 3), like `local` at the default pose
        self.max_reach = self.config.reach_fraction * np.array(lengths)  # (2,)

    def sample_episode(self, u: Array, qpos: Array) -> tuple[Array, Array]:
        """Targets near the default wrist spots, pulled towards the shoulder where out of reach."""
        qpos, targets = super().sample_episode(u, qpos)
        xp = xp_of(targets)
        points = xp.reshape(targets, targets.shape[:-1] + (2, 3))
        from_shoulder = points - xp.asarray(self.shoulders, dtype=targets.dtype)
        limit = xp.asarray(self.max_reach, dtype=targets.dtype)
        pull = xp.minimum(1.0, limit / norm(from_shoulder))[..., None]
        points = xp.asarray(self.shoulders, dtype=targets.dtype) + pull * from_shoulder
        return qpos, xp.reshape(points, targets.shape)
