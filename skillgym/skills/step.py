"""Step: place both feet on floor targets around their default positions."""

from __future__ import annotations

from skillgym.envs.frame import Array, Frame, xp_of
from skillgym.envs.task import EpisodeState
from skillgym.skills.humanoid import humanoid_weights
from skillgym.skills.site_targets import SiteTargets, SiteTargetsConfig


class Step(SiteTargets):
    name = "Step"
    target_sites = ("left_foot", "right_foot")
    fixed_in_world = True
    dims = 2
    goal_size = 4
    goal_uniforms = 4
    # Per foot (left, right): seconds off the ground, then its distance to its target where it
    # last landed (or started).
    memory_size = 4
    metric_names = ("foot_error",)
    success_rule = "both feet within 5 cm of their targets for 0.5 s, no fall"

    @classmethod
    def default_config(cls) -> SiteTargetsConfig:
        return SiteTargetsConfig(
            episode_seconds=4.0,
            reward_weights=humanoid_weights(
                track_targets=3.0, hold_targets=3.0, posture=0.1, step_progress=10.0
            ),
        )

    def update_memory(self, frame: Frame, state: EpisodeState) -> Array:
        xp = xp_of(frame.qpos)
        air, landed_at = state.memory[..., :2], state.memory[..., 2:]
        renew = self.step_touchdown(frame, air) | (landed_at == 0.0)  # 0: the episode's start
        landed_at = xp.where(renew, self.distances(frame, state), landed_at)
        return xp.concat([self.air_time(frame, air), landed_at], axis=-1)

    def skill_reward_terms(self) -> dict:
        return {**super().skill_reward_terms(), "step_progress": step_progress}


def step_progress(task: Step, frame: Frame, state: EpisodeState, action: Array) -> Array:
    """At each step's landing, how much nearer its target the foot is than where it last
    landed. The distance terms alone pay a foot for every centimetre it gets nearer, but only
    after the risky part of a step (unloading and lifting the foot) is done, so standing still
    is a safe local optimum; this prices the whole step at its landing. The payments of an
    episode add up to the distance the feet have closed since the start, so no way of stepping
    (in place, away and back, sliding a foot off and stepping it back) earns more. Paid as a
    rate (over one control step), so the weight prices a metre of progress."""
    xp = xp_of(frame.qpos)
    landed_at = state.memory[..., 2:]
    landed = task.step_touchdown(frame, state.memory[..., :2]) & (landed_at > 0.0)
    gained = xp.where(landed, landed_at - task.distances(frame, state), 0.0)
    return xp.sum(gained, axis=-1) / task.dt
