"""Success-gated curricula: levels that take a training env's privileges away.

A `Curriculum` is a few `LevelTerm`s. Each term keeps a level, global or one per env, gated on a
statistic of finished episodes (success, or a tracking error), and its level sets the scales of
some privileges through their schedules (`skillgym.core.privileges.Schedule`). The level
arithmetic is array-API code, so per-env levels can live with NumPy or jax.numpy arrays.

    curriculum = make_curriculum(env)
    obs, reward, terminated, truncated, info = env.step(action)
    logger.log(curriculum.update(info))  # {"curriculum/privileges_level": ..., ...}
    checkpoint_metadata["curriculum"] = curriculum.state_dict()  # plain JSON
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import numpy as np

from skillgym.core.arrays import Array, xp_of
from skillgym.core.privileges import NarrowCommands
from skillgym.envs.vector import finished_episodes
from skillgym.skills.walk import WalkConfig


@dataclasses.dataclass(frozen=True)
class LevelTerm:
    """A level and the privileges whose scales follow it.

    Global: after every `window` finished episodes, promote once if their mean statistic passes.
    Per env: at each of an env's episode ends, promote it if the episode passed, else demote it.
    """

    name: str
    privileges: tuple[str, ...]
    statistic: str = "success"  # a key of the episode summary (Task.episode_summary)
    threshold: float = 0.7
    lower_is_better: bool = False  # True for errors: pass below the threshold
    per_env: bool = False
    # Episodes per decision of a global level. 256 keeps a window's standard error near 0.03:
    # with 64, a policy succeeding 55% of the time passed a 0.7 gate within a few hundred
    # windows by luck, and lost its privileges before it could do without them.
    window: int = 256


def passes(term: LevelTerm, value: Array) -> Array:
    """Whether a statistic (an episode's, or a window's mean) passes the term's gate."""
    return value < term.threshold if term.lower_is_better else value > term.threshold


def promoted_or_demoted(
    term: LevelTerm, levels: Array, done: Array, value: Array, top: int
) -> Array:
    """Per-env levels after the episodes that ended where `done` is set."""
    xp = xp_of(levels)
    move = xp.where(passes(term, value), 1, -1)
    return xp.where(done, xp.clip(levels + move, 0, top), levels)


class Curriculum:
    """Level terms over one privileged env: `update` with finished episodes sets its scales.

    Every privilege of the env is driven by exactly one term; once every term is at the level
    where its privileges are all 0, `privileges_off` is True and the env is the evaluation env.
    """

    def __init__(self, env: Any, terms: tuple[LevelTerm, ...]) -> None:
        self.env = getattr(env, "unwrapped", env)
        privileges = self.env.privileges
        if privileges is None:
            raise ValueError("a curriculum needs a privileged env: make it with privileged=True")
        self.terms = terms
        driven = [name for term in terms for name in term.privileges]
        if sorted(driven) != sorted(privileges.names):
            raise ValueError(
                f"terms drive {sorted(driven)}; each of {privileges.names} needs exactly one"
            )
        self.schedules = {p.name: p.schedule for p in privileges.configs}
        self.top = {
            term.name: max(self.schedules[name].off_level for name in term.privileges)
            for term in terms
        }
        self.num_envs = getattr(self.env, "num_envs", 1)
        self.levels = {term.name: self._initial_level(term) for term in terms}
        self.windows = {term.name: [0.0, 0] for term in terms}  # sum and count of a statistic
        self.last_statistic: dict[str, float] = {}
        self._apply()

    def _initial_level(self, term: LevelTerm) -> Array:
        return np.zeros(self.num_envs, dtype=np.int64) if term.per_env else np.int64(0)

    def update(self, episode_info: Mapping[str, Any]) -> dict[str, float]:
        """Take finished episodes (a step's info, or its `final_info`) into account; return the
        values to log, keyed `curriculum/<name>`."""
        stats, done = finished_episodes(episode_info, self.num_envs)
        changed = False
        for term in self.terms if done.any() else ():
            values = np.asarray(stats[term.statistic], dtype=np.float64)
            level = self.levels[term.name]
            if term.per_env:
                self.last_statistic[term.name] = float(values[done].mean())
                new = promoted_or_demoted(term, level, done, values, self.top[term.name])
            else:
                new = self._windowed(term, values[done])
            changed |= bool(np.any(new != level))
            self.levels[term.name] = new
        if changed:
            self._apply()
        return self.log()

    def _windowed(self, term: LevelTerm, values: np.ndarray) -> np.int64:
        """A global level after these episodes: one decision per full window."""
        window = self.windows[term.name]
        window[0] += float(values.sum())
        window[1] += len(values)
        level = self.levels[term.name]
        if window[1] < term.window:
            return level
        self.last_statistic[term.name] = window[0] / window[1]
        if passes(term, self.last_statistic[term.name]):
            level = np.int64(min(level + 1, self.top[term.name]))
        window[:] = [0.0, 0]
        return level

    def _apply(self) -> None:
        self.env.set_privilege_scales(self.scales())

    def scales(self) -> dict[str, Array]:
        """Every privilege's scale at the current levels (per env where the level is)."""
        return {
            name: self.schedules[name].scale(self.levels[term.name])
            for term in self.terms
            for name in term.privileges
        }

    @property
    def privileges_off(self) -> bool:
        """True once every privilege is at 0 in every env: training on the evaluation env."""
        return all(np.all(self.levels[t.name] >= self.top[t.name]) for t in self.terms)

    def log(self) -> dict[str, float]:
        """Mean level and scales, and the statistic the gate last decided on (a global level's
        window mean; the mean over the episodes that just ended for per-env levels), keyed
        `curriculum/<name>`."""
        out = {}
        for term in self.terms:
            out[f"curriculum/{term.name}_level"] = float(np.mean(self.levels[term.name]))
            if term.name in self.last_statistic:
                out[f"curriculum/{term.name}_{term.statistic}"] = self.last_statistic[term.name]
        out.update({f"curriculum/{n}": float(np.mean(s)) for n, s in self.scales().items()})
        out["curriculum/privileges_off"] = float(self.privileges_off)
        return out

    def state_dict(self) -> dict[str, Any]:
        """Plain JSON: each term's level(s) and the episodes of its open window."""
        return {
            term.name: {
                "level": np.asarray(self.levels[term.name]).tolist(),
                "window": list(self.windows[term.name]),
            }
            for term in self.terms
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Continue from a `state_dict`, and put the env's scales where it left them. Per-env
        levels may continue a global level's run: every env starts at its level."""
        for term in self.terms:
            saved = state[term.name]
            level = np.asarray(saved["level"], dtype=np.int64)
            if term.per_env and level.shape == ():  # a global level's run goes on per env
                level = np.full(self.num_envs, level)
            if level.shape != np.shape(self.levels[term.name]):
                raise ValueError(f"{term.name}: saved level has shape {level.shape}")
            self.levels[term.name] = level if term.per_env else np.int64(level)
            self.windows[term.name] = [float(saved["window"][0]), int(saved["window"][1])]
        self._apply()


# Mean tracking error under which narrowed commands widen: Walk's success bound (m/s).
COMMAND_ERROR = WalkConfig.max_mean_velocity_error


def check_gates(success_rate: float, command_error: float) -> None:
    """Refuse gates no curriculum can pass or fail: a success rate outside [0, 1), an error
    bound at or below 0."""
    if not 0.0 <= success_rate < 1.0:
        raise ValueError(
            f"the promotion gate (promote_at, success_rate) is a success rate in [0, 1), "
            f"not {success_rate}"
        )
    if not command_error > 0.0:
        raise ValueError(
            f"the widening gate (widen_below, command_error) is a tracking error above 0, "
            f"not {command_error}"
        )


def make_curriculum(
    env: Any,
    per_env: bool = False,
    success_rate: float = LevelTerm.threshold,
    window: int = LevelTerm.window,
    command_error: float = COMMAND_ERROR,
) -> Curriculum:
    """The default curriculum of a privileged env: one level for all its privileges, promoted
    while more than `success_rate` of episodes succeed; narrowed commands, where the task has
    them, widen on their own level while the headline tracking error stays below
    `command_error`."""
    check_gates(success_rate, command_error)
    unwrapped = getattr(env, "unwrapped", env)
    if unwrapped.privileges is None:
        raise ValueError("a curriculum needs a privileged env: make it with privileged=True")
    names = unwrapped.privileges.names
    commands = tuple(n for n in names if n == NarrowCommands.name)
    helpers = tuple(n for n in names if n not in commands)
    terms = []
    if helpers:
        success = LevelTerm("privileges", helpers, "success", success_rate, False, per_env, window)
        terms.append(success)
    if commands:
        error = unwrapped.task.metric_names[0]
        terms.append(LevelTerm("commands", commands, error, command_error, True, per_env, window))
    return Curriculum(env, tuple(terms))
