"""Reward terms and kernels that skills of every robot family share.

A reward term has the signature of `skillgym.core.task.RewardTerm`: `(task, snapshot, state,
action) -> (...)` per-env values, weighted by `TaskConfig.reward_weights`. Kernels turn an error
into a reward in [0, 1] that is 1 at zero error.
"""

from __future__ import annotations

from skillgym.core.arrays import Array, xp_of
from skillgym.core.snapshot import Snapshot
from skillgym.core.task import EpisodeState, Task


def action_rate(task: Task, snap: Snapshot, state: EpisodeState, action: Array) -> Array:
    """Squared change of the action since the last step, summed over the channels."""
    xp = xp_of(action)
    return xp.sum((action - state.last_action) ** 2, axis=-1)


def joint_vel(task: Task, snap: Snapshot, state: EpisodeState, action: Array) -> Array:
    """Squared velocities of the actuated joints, summed."""
    xp = xp_of(snap.qvel)
    return xp.sum(task.joint_vel(snap) ** 2, axis=-1)


def goal_reached(task: Task, snap: Snapshot, state: EpisodeState, action: Array) -> Array:
    """1 while the task's goal is met: a bonus that makes holding it pay."""
    xp = xp_of(snap.qpos)
    return xp.astype(task.reached(snap, state), snap.qpos.dtype)


def tracking(error_sq: Array, sigma: float) -> Array:
    """exp(-error^2 / sigma): the usual shape of tracking rewards."""
    return xp_of(error_sq).exp(-error_sq / sigma)


def distance_reward(distance: Array, scale: float) -> Array:
    """1 - tanh(d / scale): a dense pull towards zero distance."""
    return 1.0 - xp_of(distance).tanh(distance / scale)
