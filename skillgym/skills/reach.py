"""Reach: put both wrists on targets in space around their default positions."""

from __future__ import annotations

from skillgym.skills.humanoid import humanoid_weights
from skillgym.skills.site_targets import SiteTargets, SiteTargetsConfig


class Reach(SiteTargets):
    name = "Reach"
    target_sites = ("left_wrist", "right_wrist")
    dims = 3
    goal_size = 6
    goal_uniforms = 6
    metric_names = ("wrist_error",)
    success_rule = "both wrists within 5 cm of their targets for 0.5 s"

    @classmethod
    def default_config(cls) -> SiteTargetsConfig:
        return SiteTargetsConfig(
            episode_seconds=4.0,
            reward_weights=humanoid_weights(track_targets=3.0, hold_targets=3.0, posture=0.1),
        )
