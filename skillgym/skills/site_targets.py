"""Shared shape of Reach and Step: move two body sites onto targets near their default spots.

Targets are offsets from the sites' default positions, expressed in the pelvis heading frame,
so the goal means the same wherever the robot stands and whichever way it faces. Reach's targets
move with the pelvis (a point relative to the body); Step's stay where they were put on the floor
(a foothold), so the pelvis may settle over the new stance.
"""

from __future__ import annotations

import dataclasses
from abc import abstractmethod
from typing import ClassVar

import mujoco
import numpy as np

from skillgym.core.arrays import Array, norm, xp_of
from skillgym.core.snapshot import Snapshot
from skillgym.core.task import EpisodeState
from skillgym.skills.humanoid import HumanoidSkill, HumanoidTaskConfig


@dataclasses.dataclass(frozen=True)
class SiteTargetsConfig(HumanoidTaskConfig):
    target_radius: float = 0.25  # m, targets lie within this of the default site position
    tolerance: float = 0.05  # m, per site, for success
    track_gain: float = 4.0  # 1/m, of exp(-gain * mean distance) in `track_targets`
    hold_scale: float = 0.03  # m, of exp(-worst distance / scale) in `hold_targets`


class SiteTargets(HumanoidSkill):
    """Two sites to two targets; `dims` is 3 for points in space, 2 for points on the floor."""

    dims: ClassVar[int]
    # True: the goal holds the targets relative to the pelvis at the episode's start (the default
    # pose), and they stay put in the world; False: relative to the pelvis at every step.
    fixed_in_world: ClassVar[bool]
    config: SiteTargetsConfig

    @property
    @abstractmethod
    def target_sites(self) -> tuple[str, str]:
        """The robot's two sites (left, right) that the goal puts on targets."""

    def bind(self, model: mujoco.MjModel) -> None:
        super().bind(model)
        home = [self.home_local(site)[: self.dims] for site in self.target_sites]
        self.home_targets = np.concatenate(home)

    def sample_episode(self, u: Array, qpos: Array) -> tuple[Array, Array]:
        # A cube of half-size r / sqrt(dims) keeps every target within r of its default spot.
        half = self.config.target_radius / np.sqrt(self.dims)
        return qpos, self.home_targets + half * (2.0 * u - 1.0)

    def site_errors(self, snap: Snapshot, state: EpisodeState) -> Array:
        """Target minus current site positions in the pelvis heading frame, (..., 2, dims)."""
        xp = xp_of(snap.qpos)
        targets = xp.reshape(state.goal, state.goal.shape[:-1] + (2, self.dims))
        sites = self.site_positions(snap, self.target_sites)
        if self.fixed_in_world:
            start = xp.asarray(self.home_site_xpos[self.pelvis, : self.dims])
            return self.heading(snap, targets + start - sites[..., : self.dims])
        return targets - self.relative(snap, sites)[..., : self.dims]

    def distances(self, snap: Snapshot, state: EpisodeState) -> Array:
        return norm(self.site_errors(snap, state))

    def goal_observation(self, snap: Snapshot, state: EpisodeState) -> Array:
        errors = self.site_errors(snap, state)
        return xp_of(errors).reshape(errors, errors.shape[:-2] + (2 * self.dims,))

    def skill_reward_terms(self) -> dict:
        return {"track_targets": track_targets, "hold_targets": hold_targets}

    def metrics(self, snap: Snapshot, state: EpisodeState) -> Array:
        xp = xp_of(snap.qpos)
        return xp.mean(self.distances(snap, state), axis=-1)[..., None]

    def placed(self, snap: Snapshot) -> Array:
        """Whether both sites may count as on their targets, (...) bool; always, unless a
        skill asks more of a site than its position."""
        xp = xp_of(snap.qpos)
        return xp.ones(snap.qpos.shape[:-1], dtype=xp.bool)

    def reached(self, snap: Snapshot, state: EpisodeState) -> Array:
        xp = xp_of(snap.qpos)
        near = xp.all(self.distances(snap, state) <= self.config.tolerance, axis=-1)
        return near & self.placed(snap)

    def markers(self, data: mujoco.MjData, state: EpisodeState) -> np.ndarray:
        targets = np.asarray(state.goal).reshape(2, self.dims)
        if not self.fixed_in_world:
            return self.world_from_local(data, targets)
        world = targets + self.home_site_xpos[self.pelvis, : self.dims]
        return np.concatenate([world, np.full((2, 3 - self.dims), 0.02)], axis=-1)  # on the floor


def track_targets(task: SiteTargets, snap: Snapshot, state: EpisodeState, action: Array) -> Array:
    """exp(-track_gain * mean distance), the reference shape for reaching."""
    xp = xp_of(snap.qpos)
    return xp.exp(-task.config.track_gain * xp.mean(task.distances(snap, state), axis=-1))


def hold_targets(task: SiteTargets, snap: Snapshot, state: EpisodeState, action: Array) -> Array:
    """exp(-worst distance / hold_scale) while both sites are placed: at the default 3 cm, steep
    inside the 5 cm tolerance, where `track_targets` is flat, and set by the worse site, since
    success needs both."""
    xp = xp_of(snap.qpos)
    close = xp.exp(-xp.max(task.distances(snap, state), axis=-1) / task.config.hold_scale)
    return xp.where(task.placed(snap), close, 0.0)
