"""Step: place both feet on floor targets around their default positions."""

from __future__ import annotations

from skillgym.skills.humanoid import humanoid_weights
from skillgym.skills.site_targets import SiteTargets, SiteTargetsConfig


class Step(SiteTargets):
    name = "Step"
    target_sites = ("left_foot", "right_foot")
    fixed_in_world = True
    dims = 2
    goal_size = 4
    goal_uniforms = 4
    metric_names = ("foot_error",)
    success_rule = "both feet within 5 cm of their targets for 0.5 s, no fall"

    @classmethod
    def default_config(cls) -> SiteTargetsConfig:
        return SiteTargetsConfig(
            episode_seconds=4.0,
            reward_weights=humanoid_weights(track_targets=3.0, hold_targets=3.0, posture=0.1),
        )
