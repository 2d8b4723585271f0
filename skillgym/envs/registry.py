"""The env registry: every robot x skill and robot x benchmark task pair, as
`skillgym/<Robot>-<Skill>-v0` and `skillgym/<Robot>-<Task>-v0`."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import gymnasium as gym

from skillgym.core.robots import ROBOT_NAMES, robot_config
from skillgym.core.task import Task, TaskConfig
from skillgym.envs.vector import SkillEnv, SkillVectorEnv
from skillgym.skills import SKILLS, skill_class
from skillgym.tasks import TASKS

# Skills and tasks share one namespace of names, so an env id names either.
SKILLS_AND_TASKS: tuple[type[Task], ...] = SKILLS + TASKS


def env_id(robot: str, skill: str) -> str:
    return f"skillgym/{robot.capitalize()}-{skill}-v0"


def make_task(robot: str, skill: str, config: TaskConfig | None = None) -> Task:
    """The task object behind an env id's robot and skill (or benchmark task) names."""
    robot_cfg = robot_config(robot)
    cls = skill_class(robot_cfg.kind, skill, SKILLS_AND_TASKS, "skills and tasks")
    return cls(robot_cfg, config)


REWARD_PREFIX = "reward."  # a task-config key that sets a reward term's weight


def task_config(env_id: str, overrides: Mapping[str, Any]) -> TaskConfig:
    """The registered env's task configuration with some number settings changed: what a run
    trains on when it asks for more than the registered env (say, a wider goal range).
    `reward.TERM` sets the weight of one of the task's reward terms."""
    envs = registered()
    if env_id not in envs:
        raise ValueError(f"unknown env id {env_id!r}; `skillgym list` shows them")
    robot, name = envs[env_id]
    default = make_task(robot, name).config
    numbers = {
        f.name: type(getattr(default, f.name))
        for f in dataclasses.fields(default)
        if type(getattr(default, f.name)) in (int, float, bool)
    }
    weights = dict(default.reward_weights)
    settings: dict[str, Any] = {}
    for key, value in overrides.items():
        if key.startswith(REWARD_PREFIX):
            name, kind, target = key.removeprefix(REWARD_PREFIX), float, weights
            if name not in weights:
                raise ValueError(f"{env_id} has no reward term {name!r}; it has {sorted(weights)}")
        else:
            if key not in numbers:
                raise ValueError(
                    f"{env_id} has no number setting {key!r}; it has {sorted(numbers)}"
                )
            name, kind, target = key, numbers[key], settings
        if (kind is bool) != isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f"{env_id}: {key} takes a {kind.__name__}, not {value!r}")
        target[name] = kind(value)
    return dataclasses.replace(default, reward_weights=weights, **settings)


def make_env(robot: str, skill: str, config: TaskConfig | None = None, **kwargs: Any) -> SkillEnv:
    """Entry point of `gym.make`."""
    return SkillEnv(make_task(robot, skill, config), env_id=env_id(robot, skill), **kwargs)


def make_vector_env(
    robot: str,
    skill: str,
    num_envs: int,
    config: TaskConfig | None = None,
    backend: str = "cpu",
    **kwargs: Any,
) -> gym.vector.VectorEnv:
    """Entry point of `gym.make_vec(..., vectorization_mode="vector_entry_point")`.

    `backend="cpu"` (default) steps native MuJoCo in a thread pool; `backend="mjx"` runs MJX,
    with `impl="jax"` or `impl="warp"` (MuJoCo Warp, CUDA only).
    """
    task = make_task(robot, skill, config)
    if backend == "cpu":
        return SkillVectorEnv(task, num_envs=num_envs, env_id=env_id(robot, skill), **kwargs)
    if backend == "mjx":
        from skillgym.envs.mjx import MjxVectorEnv  # JAX is an optional dependency

        return MjxVectorEnv(task, num_envs=num_envs, env_id=env_id(robot, skill), **kwargs)
    raise ValueError(f"backend must be 'cpu' or 'mjx', not {backend!r}")


def registered() -> dict[str, tuple[str, str]]:
    """Env id -> (robot, skill or task) for every robot x skill and robot x task of matching
    kinds, skills first."""
    return {
        env_id(robot, cls.name): (robot, cls.name)
        for group in (SKILLS, TASKS)
        for robot in ROBOT_NAMES
        for cls in group
        if cls.robot_kind == robot_config(robot).kind
    }


def register_all() -> None:
    for env, (robot, skill) in registered().items():
        if env in gym.registry:
            continue
        gym.register(
            id=env,
            entry_point=make_env,
            vector_entry_point=make_vector_env,
            kwargs={"robot": robot, "skill": skill},
            disable_env_checker=False,
        )
