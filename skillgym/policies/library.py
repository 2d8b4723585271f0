"""The frozen skills a composed controller drives, and the record that pins their versions.

A task's skills are its robot's shipped skill checkpoints (`pretrained/<Robot>-<Skill>`). A
composed checkpoint records each one's env id, env steps and the sha256 of its `weights.pt`,
with everything needed to rebuild its network, and carries the skills' weights itself: it keeps
working, unchanged, when a skill is retrained. Continuing its training against skills of other
versions is refused (`check_same_skills`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from skillgym.policies.actor import Actor
from skillgym.policies.checkpoint import describe, pretrained_path, read_actor
from skillgym.policies.composed import GOAL_RANGE_STDS

# A skill distilled by imitation acts well only with almost no noise: the shipped arm Lift lifts
# 74% of PushGraspLift's boxes under action noise of std 0.01, 4% under 0.03, none under 0.1.
DISTILLED_LOG_STD = -4.5  # std 0.011


def skill_env_id(task_env_id: str, skill: str) -> str:
    """`skillgym/Tall19-BoxPush-v0`, `Walk` -> `skillgym/Tall19-Walk-v0`."""
    robot = task_env_id.split("/")[-1].split("-")[0]
    return f"skillgym/{robot}-{skill}-v0"


def composed_skills(
    env: Any, skill_dirs: dict[str, str | Path] | None = None
) -> tuple[list[dict[str, Any]], list[Actor]]:
    """The skills a controller on `env` (a reset batched env of a composable task) drives:
    each one's record (which checkpoint: env id, env steps, weights' sha256; its network; where
    its observation lies in the task's, `slots`; its goal's range; where the decomposition's
    weights for it lie, `phase`, for a task with phases; `goal_fixed` where the task fixes its
    goal) and its actor. The robot's
    shipped checkpoints, or those `skill_dirs` names per skill."""
    task = env.task
    if not hasattr(task, "skill_slots"):
        raise ValueError(f"{env.env_id} does not compose skills: its task has no skill_slots")
    slots = task.skill_slots(env.snapshot(), env.episode_state)
    phases = task.phase_slots(env.snapshot(), env.episode_state)
    unknown = set(skill_dirs or {}) - set(slots)
    if unknown:
        raise ValueError(
            f"{env.env_id} composes {', '.join(slots)}; no skill named {', '.join(sorted(unknown))}"
        )
    records, actors = [], []
    for name, skill_slots in slots.items():
        path = (skill_dirs or {}).get(name) or pretrained_path(skill_env_id(env.env_id, name))
        if not Path(path).is_dir():
            raise FileNotFoundError(
                f"{env.env_id} composes {name}, and there is no {name} checkpoint at {path}"
            )
        actor, meta, tensors = read_actor(path)
        if meta.env_id != skill_env_id(env.env_id, name):
            raise ValueError(
                f"{path} is a checkpoint of {meta.env_id}; {env.env_id}'s {name} is "
                f"{skill_env_id(env.env_id, name)}"
            )
        size = sum(size for _, _, size in skill_slots)
        if meta.obs_size != size:
            raise ValueError(
                f"{path}: {meta.env_id} observes {meta.obs_size} numbers, but {env.env_id} "
                f"lays out {size} for {name}: was the skill trained on another observation?"
            )
        goal_size = skill_slots[0][2]
        mean = tensors["obs_mean"].numpy()[:goal_size]
        std = np.sqrt(tensors["obs_var"].numpy()[:goal_size])
        records.append(
            {
                "name": name,
                **describe(path),
                "env_id": meta.env_id,
                "obs_size": meta.obs_size,
                "action_size": meta.action_size,
                "net_arch": meta.net_arch,
                "activation": meta.activation,
                "clip_obs": meta.clip_obs,
                "slots": [list(slot) for slot in skill_slots],
                "goal_low": (mean - GOAL_RANGE_STDS * std).tolist(),
                "goal_high": (mean + GOAL_RANGE_STDS * std).tolist(),
                **({"phase": list(phases[name])} if name in phases else {}),
                **({"goal_fixed": True} if name in task.fixed_goals else {}),
            }
        )
        actors.append(actor)
    return records, actors


def observation_statistics(
    records: list[dict[str, Any]], skills: list[Actor], obs_size: int
) -> tuple[np.ndarray, np.ndarray]:
    """Fixed statistics for the task's observation, for the high-level network: each entry a
    skill observes gets that skill's training statistics (the first skill's that observes it);
    the others (the task's own goal) mean 0 and variance 1."""
    mean, var = np.zeros(obs_size), np.ones(obs_size)
    covered = np.zeros(obs_size, dtype=bool)
    for record, skill in zip(records, skills, strict=True):
        skill_mean = skill.obs_mean.numpy().astype(np.float64)
        skill_var = skill.obs_std.numpy().astype(np.float64) ** 2
        offset = 0
        for _, start, size in record["slots"]:
            entries = np.arange(start, start + size)
            fresh = entries[~covered[entries]]
            mean[fresh] = skill_mean[offset + fresh - start]
            var[fresh] = skill_var[offset + fresh - start]
            covered[entries] = True
            offset += size
    return mean, var


def skills_noise(skills: list[Actor]) -> float:
    """The exploration noise (log std) the skills ended their training at, on average: where a
    new controller over them starts (a humanoid's skills balance with little noise). With a
    skill among them distilled by imitation (its noise never trained: log std 0),
    `DISTILLED_LOG_STD`."""
    trained = [skill.policy.log_std.mean().item() for skill in skills if skill.policy.log_std.any()]
    if len(trained) < len(skills):
        return DISTILLED_LOG_STD
    return float(np.mean(trained))


def check_same_skills(recorded: list[dict[str, Any]], current: list[dict[str, Any]]) -> None:
    """Refuse to continue a controller trained on some skills with others: a ValueError naming
    the skill and both versions."""
    for old, new in zip(recorded, current, strict=False):
        if (old["name"], old["env_id"], old["weights_sha256"]) != (
            new["name"],
            new["env_id"],
            new["weights_sha256"],
        ):
            raise ValueError(
                f"the controller was trained on {old['name']} = {old['env_id']} at "
                f"{old['env_steps']:,} env steps (weights sha256 {old['weights_sha256'][:12]}), "
                f"but the skill now is {new['env_id']} at {new['env_steps']:,} env steps "
                f"(sha256 {new['weights_sha256'][:12]}): train a new controller, or give it the "
                "skills it was trained on"
            )
    if len(recorded) != len(current):
        raise ValueError(
            f"the controller was trained on {len(recorded)} skills "
            f"({', '.join(r['name'] for r in recorded)}), not {len(current)}"
        )
