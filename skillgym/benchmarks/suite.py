"""Benchmark suites: plain JSON files that fix what a score means.

A suite lists tasks; each task fixes its env id, robot, number of episodes, seed and episode
length, so the same policy on the same suite and backend always gets the same numbers. Built-in
suites live in `skillgym/benchmarks/suites/`; any other JSON file of the same shape works too.
"""

from __future__ import annotations

import dataclasses
import difflib
import hashlib
import json
from importlib import resources
from pathlib import Path
from typing import Any

import gymnasium as gym

SUITE_SCHEMA_VERSION = 1
_SUITES = resources.files("skillgym.benchmarks") / "suites"


@dataclasses.dataclass(frozen=True)
class SuiteTask:
    """One scored task: `episodes` envs in one batch, reset once with `seed`."""

    env_id: str
    robot: str
    episodes: int
    seed: int
    episode_seconds: float | None  # None: the task's own default (recorded in the results)

    @property
    def name(self) -> str:
        """The env id without its namespace, for file names and table columns."""
        return self.env_id.split("/")[-1]


@dataclasses.dataclass(frozen=True)
class Suite:
    name: str
    description: str
    tasks: tuple[SuiteTask, ...]
    sha256: str  # of the suite file's bytes, so results say exactly which protocol ran


def builtin_suites() -> list[str]:
    """Names of the suites shipped with skillgym."""
    return sorted(
        p.name.removesuffix(".json") for p in _SUITES.iterdir() if p.name.endswith(".json")
    )


def load_suite(name_or_path: str | Path) -> Suite:
    """A built-in suite by name, or a suite file by path; every env id must be registered."""
    raw, source = _read(name_or_path)
    try:
        suite = _parse(json.loads(raw), hashlib.sha256(raw).hexdigest())
    except (KeyError, TypeError, json.JSONDecodeError) as error:
        raise ValueError(f"suite {source}: malformed ({type(error).__name__}: {error})") from error
    for index, task in enumerate(suite.tasks):
        if task.env_id not in gym.registry:
            raise ValueError(_unknown_env_message(suite.name, index, task.env_id))
    return suite


def _read(name_or_path: str | Path) -> tuple[bytes, str]:
    path = Path(name_or_path)
    if path.suffix == ".json" or path.exists():
        if not path.is_file():
            raise ValueError(f"suite file {path} does not exist")
        return path.read_bytes(), str(path)
    builtin = _SUITES / f"{name_or_path}.json"
    if not builtin.is_file():
        raise ValueError(
            f"unknown suite {str(name_or_path)!r}: built-in suites are "
            f"{', '.join(builtin_suites())}, or give a path to a .json suite file"
        )
    return builtin.read_bytes(), str(name_or_path)


def _parse(data: dict[str, Any], sha256: str) -> Suite:
    version = data["schema_version"]
    if version != SUITE_SCHEMA_VERSION:
        raise TypeError(f"schema_version {version}, this skillgym reads {SUITE_SCHEMA_VERSION}")
    tasks = []
    for entry in data["tasks"]:
        seconds = entry.get("episode_seconds")
        task = SuiteTask(
            env_id=str(entry["env_id"]),
            robot=str(entry["robot"]),
            episodes=int(entry["episodes"]),
            seed=int(entry["seed"]),
            episode_seconds=None if seconds is None else float(seconds),
        )
        if task.episodes < 1:
            raise TypeError(f"{task.env_id}: episodes must be at least 1")
        if task.episode_seconds is not None and not task.episode_seconds > 0:
            raise TypeError(f"{task.env_id}: episode_seconds must be above 0 (or left out)")
        tasks.append(task)
    if not tasks:
        raise TypeError("a suite needs at least one task")
    return Suite(str(data["name"]), str(data.get("description", "")), tuple(tasks), sha256)


def _unknown_env_message(suite: str, index: int, env_id: str) -> str:
    known = [name for name in gym.registry if name.startswith("skillgym/")]
    close = difflib.get_close_matches(env_id, known, n=3)
    hint = f" Close matches: {', '.join(close)}." if close else ""
    return (
        f"suite {suite!r}, task {index}: env id {env_id!r} is not registered in this skillgym "
        f"(`skillgym list` shows the {len(known)} that are).{hint} A suite can name a task only "
        "once the package that defines it is installed."
    )
