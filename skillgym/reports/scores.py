"""The table of shipped scores, made from the shipped checkpoints' own records.

A shipped checkpoint's metadata holds its `evaluation`: what `skillgym eval ENV_ID --episodes
100` (seed 0, the CPU backend's privilege-free env) scored, with the date and the software
versions of that run. `rescore` re-runs that evaluation and records it; `scores_table` renders
the README's table from the records alone, so the two cannot drift.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import skillgym
from skillgym.core.robots import ROBOT_NAMES, robot_config
from skillgym.envs.registry import SKILLS_AND_TASKS, env_id
from skillgym.policies.checkpoint import (
    METADATA,
    load_actor,
    pretrained_path,
    published_evaluation,
    read_metadata,
)

BEGIN = "<!-- scores:begin -->"
END = "<!-- scores:end -->"
# The success rate a shipped skill must reach on 100 evaluation episodes.
BARS: dict[str, float] = {"Lift": 0.80}
DEFAULT_BAR = 0.90
# Bounds on a skill's evaluation metrics a shipped checkpoint must keep as well: Walk's gait,
# upright and not splayed (docs/environments.md).
METRIC_BARS: dict[str, dict[str, tuple[float, float]]] = {
    "Walk": {"height_ratio": (0.9, float("inf")), "stance_width_ratio": (0.75, 1.25)},
}


def bar(env: str) -> float:
    """The success rate the shipped checkpoint of `env` must reach."""
    _, name = skillgym.registered()[env]
    return BARS.get(name, DEFAULT_BAR)


def metric_bars(env: str) -> dict[str, tuple[float, float]]:
    """The bounds the shipped checkpoint of `env` must keep its evaluation metrics within."""
    _, name = skillgym.registered()[env]
    return METRIC_BARS.get(name, {})


def meets_bars(env: str, evaluation: dict[str, Any]) -> bool:
    """Whether an evaluation record reaches the env's success bar and keeps its metrics within
    their bounds (a metric the record lacks does not)."""
    metrics = evaluation.get("metrics", {})
    within = all(
        name in metrics and low <= metrics[name] <= high
        for name, (low, high) in metric_bars(env).items()
    )
    return evaluation["success_rate"] >= bar(env) and within


def below_bar(env: str) -> bool:
    """True where the shipped checkpoint's record misses its bars (a checkpoint the success
    rules have outgrown, waiting to be retrained)."""
    return not meets_bars(env, read_metadata(pretrained_path(env)).evaluation)


def shipped_env_ids() -> list[str]:
    """Every env id with a shipped checkpoint, in registry order."""
    return [env for env in skillgym.registered() if pretrained_path(env).exists()]


def rescore(env: str, episodes: int = 100, seed: int = 0) -> dict[str, Any]:
    """Evaluate the shipped checkpoint of `env` and record the result in its metadata."""
    path = pretrained_path(env)
    actor, _ = load_actor(path)
    result = published_evaluation(actor, env, episodes, seed)
    record = json.loads((path / METADATA).read_text())
    record["evaluation"] = result
    (path / METADATA).write_text(json.dumps(record, indent=2) + "\n")
    return result


def scores_table() -> str:
    """The README's table: every skill and task, its success rule and episode length, and per
    robot the shipped checkpoint's recorded success rate ('·': registered, no checkpoint)."""
    registered = skillgym.registered()
    records = [read_metadata(pretrained_path(env)).evaluation for env in shipped_env_ids()]
    dates = sorted({record.get("date", "undated") for record in records})
    caption = (
        "A number is the shipped checkpoint's success rate as its metadata records it: "
        "`skillgym eval ENV_ID --episodes 100`, seed 0, the CPU backend's privilege-free env, "
        f"with the versions of `constraints.txt` (scored {', '.join(dates) or 'never'}). The bar "
        f"is {BARS['Lift']:.2f} for Lift and {DEFAULT_BAR:.2f} for the other skills, and Walk "
        "keeps its pelvis at 0.9 of standing height or more and its stance within 25% of the "
        "default's on average; a checkpoint "
        "trained before its success rule last changed may score below it until retrained. `·` "
        "marks an env without a shipped checkpoint; a blank cell, a skill or task the robot lacks."
    )
    lines = [
        *textwrap.wrap(caption, width=100, break_on_hyphens=False),
        "",
        "| skill or task | success rule (`skillgym list`) | episode | "
        + " | ".join(ROBOT_NAMES)
        + " |",
        "|---|---|---:|" + ":-:|" * len(ROBOT_NAMES),
    ]
    for cls in SKILLS_AND_TASKS:
        shared = sum(other.name == cls.name for other in SKILLS_AND_TASKS) > 1
        label = f"{cls.name} ({cls.robot_kind})" if shared else cls.name
        seconds = cls.default_config().episode_seconds
        cells = [_cell(env_id(r, cls.name), cls.robot_kind, r, registered) for r in ROBOT_NAMES]
        lines.append(
            f"| {label} | {cls.success_rule} | {seconds:g} s | " + " | ".join(cells) + " |"
        )
    return "\n".join(lines)


def _cell(env: str, kind: str, robot: str, registered: dict[str, Any]) -> str:
    if robot_config(robot).kind != kind or env not in registered:
        return ""
    if not pretrained_path(env).exists():
        return "·"
    evaluation = read_metadata(pretrained_path(env)).evaluation
    return f"{evaluation['success_rate']:.2f}" + (" (below bar)" if below_bar(env) else "")


def write_scores(readme: str | Path) -> bool:
    """Put `scores_table()` between the markers of `readme`; True if the file changed."""
    readme = Path(readme)
    text = readme.read_text()
    if text.count(BEGIN) != 1 or text.count(END) != 1:
        raise ValueError(f"{readme} needs one {BEGIN} and one {END} line")
    head, rest = text.split(BEGIN)
    _, tail = rest.split(END)
    new = f"{head}{BEGIN}\n{scores_table()}\n{END}{tail}"
    readme.write_text(new)
    return new != text


def readme_scores(readme: str | Path) -> str:
    """The table between the markers of `readme`, as written there."""
    text = Path(readme).read_text()
    return text.split(BEGIN)[1].split(END)[0].strip("\n")
