"""Comparisons of training variants: the privilege-free success rate against env steps of runs
trained with and without privileges, or with different controllers, as a plot and a table.

Train the runs with `skillgym train` (several seeds each, the same `--total-steps`: with and
without `--no-privileged`, or with each `--controller`), then compare them with
`skillgym ablation RUN... --out DIR`. Each run folder says what it is in its checkpoint's
metadata (privileges, controller), so the folders can be named and arranged freely.
"""

from __future__ import annotations

import os
from collections import defaultdict
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from skillgym.policies.checkpoint import CheckpointMetadata, read_metadata

SUCCESS_MARK = 0.5  # the table reports when a run's evaluation first reaches this success rate


@dataclass(frozen=True)
class Run:
    """One training run's identity and evaluation history."""

    path: Path
    env_id: str
    variant: str  # "privileged" or "plain" for a policy of joint actions, else its controller
    seed: int
    steps: np.ndarray  # env steps at each evaluation
    success: np.ndarray  # privilege-free success rate at each evaluation
    metrics: dict[str, float]  # the metrics of its evaluation at steps[-1]
    # every evaluation's metrics as its log has them: name -> {env steps: value}
    metric_history: dict[str, dict[int, float]] = field(default_factory=dict)


def variant_of(meta: CheckpointMetadata) -> str:
    """What a run trained: a composed controller's mode (with `absolute goals` where its goals
    are not residuals), else a flat policy with or without privileges."""
    if meta.controller:
        mode = meta.controller["mode"]
        return mode if meta.controller["residual"] else f"{mode}, absolute goals"
    return "privileged" if meta.hyperparameters["privileged"] else "plain"


def read_run(path: str | os.PathLike) -> Run:
    """A run folder written by `skillgym train` (its `latest` checkpoint and TensorBoard log)."""
    from skillgym.training.ppo import scalar_series

    path = Path(path)
    meta = read_metadata(path / "latest")
    if "privileged" not in meta.hyperparameters:
        raise ValueError(f"{path}: its checkpoint does not say whether it trained with privileges")
    series = scalar_series(path, None)
    history = series.pop("eval/success_rate", [])
    if not history:
        raise ValueError(f"{path}: no evaluation in its TensorBoard log yet")
    steps, success = (np.array(column) for column in zip(*history, strict=True))
    metric_history = {
        tag.removeprefix("eval/"): dict(values)
        for tag, values in series.items()
        if tag.startswith("eval/")
    }
    metrics = meta.evaluation.get("metrics", {})
    return Run(
        path, meta.env_id, variant_of(meta), meta.seed, steps, success, metrics, metric_history
    )


def first_reaching(run: Run, mark: float = SUCCESS_MARK) -> int | None:
    """Env steps at the first evaluation with success >= mark (None if it never did)."""
    reached = np.flatnonzero(run.success >= mark)
    return int(run.steps[reached[0]]) if reached.size else None


def group(runs: list[Run]) -> dict[tuple[str, str], list[Run]]:
    """Runs by (env id, variant), variants in alphabetical order within an env."""
    groups: dict[tuple[str, str], list[Run]] = defaultdict(list)
    for run in sorted(runs, key=lambda r: (r.env_id, r.variant, r.seed)):
        groups[run.env_id, run.variant].append(run)
    return dict(groups)


def at_common_budget(runs: list[Run]) -> list[Run]:
    """Each run cut to the env steps that every run of its env reached, so that the variants
    are compared on the same budget even when some runs were trained (or got) further; a cut
    run's metrics are its evaluation's at the budget, where its log has them."""
    budget: dict[str, int] = {}
    for run in runs:
        budget[run.env_id] = min(budget.get(run.env_id, run.steps[-1]), run.steps[-1])
    cut = []
    for run in runs:
        kept = run.steps <= budget[run.env_id]
        if not kept.any():
            raise ValueError(
                f"{run.path}: no evaluation within {budget[run.env_id]:,} env steps, the budget "
                f"every run of {run.env_id} reached"
            )
        steps = run.steps[kept]
        metrics = run.metrics
        if steps[-1] != run.steps[-1]:
            at = int(steps[-1])
            # In the order of the run's own evaluation (the task's accuracy error first).
            names = [*run.metrics, *(n for n in run.metric_history if n not in run.metrics)]
            history = run.metric_history
            metrics = {n: history[n][at] for n in names if at in history.get(n, {})}
        cut.append(replace(run, steps=steps, success=run.success[kept], metrics=metrics))
    return cut


def markdown_table(runs: list[Run]) -> str:
    """One row per env and variant: seeds, budget, final and best success, time to the mark,
    and the final evaluation's headline error, falls and energy (means over seeds)."""
    lines = [
        f"| env | variant | seeds | env steps | final success | best success "
        f"| env steps to {SUCCESS_MARK:.0%} | error | falls | energy |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for (env_id, variant), members in group(runs).items():
        final = np.array([run.success[-1] for run in members])
        best = np.array([run.success.max() for run in members])
        budget = min(int(run.steps[-1]) for run in members)
        reached = [first_reaching(run) for run in members]
        to_mark = [steps for steps in reached if steps is not None]
        mark = (
            f"{np.median(to_mark):,.0f} ({len(to_mark)}/{len(members)} seeds)"
            if to_mark
            else "never"
        )
        seeds = ", ".join(str(run.seed) for run in members)
        error, falls, energy = (
            _mean_metric(members, name) for name in (_headline(members), "falls", "energy")
        )
        lines.append(
            f"| {env_id} | {variant} | {seeds} | {budget:,} "
            f"| {final.mean():.2f} ± {final.std():.2f} | {best.mean():.2f} | {mark} "
            f"| {error} | {falls} | {energy} |"
        )
    return "\n".join(lines) + "\n"


def _headline(runs: list[Run]) -> str:
    """The name of the first metric the runs' evaluations record: the task's accuracy error."""
    return next(iter(runs[0].metrics), "")


def _mean_metric(runs: list[Run], name: str) -> str:
    values = [run.metrics[name] for run in runs if name in run.metrics]
    return f"{np.mean(values):.3g}" if values else ""


def plot(runs: list[Run], path: str | os.PathLike) -> Path:
    """Success against env steps, one panel per env: each seed thin, the seeds' mean bold."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    envs = sorted({run.env_id for run in runs})
    groups = group(runs)
    fig, axes = plt.subplots(1, len(envs), figsize=(5 * len(envs), 3.6), squeeze=False)
    variants = sorted({run.variant for run in runs})
    colors = {v: f"C{i}" for i, v in enumerate(variants)}
    for ax, env_id in zip(axes[0], envs, strict=True):
        for (env, variant), members in groups.items():
            if env != env_id:
                continue
            for run in members:
                ax.plot(run.steps, run.success, color=colors[variant], alpha=0.3, lw=1)
            start, stop = max(r.steps[0] for r in members), min(r.steps[-1] for r in members)
            grid = np.linspace(start, stop, 100)  # where every seed has evaluations
            mean = np.mean([np.interp(grid, run.steps, run.success) for run in members], axis=0)
            label = f"{variant} ({len(members)} seeds)"
            ax.plot(grid, mean, color=colors[variant], lw=2.5, label=label)
        ax.set(title=env_id.split("/")[-1], xlabel="env steps", ylim=(-0.02, 1.02))
        ax.grid(alpha=0.3)
        ax.legend(loc="upper left")
    axes[0][0].set_ylabel("success rate, privilege-free env")
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def level_history(path: str | os.PathLike) -> list[dict[str, Any]]:
    """A privileged run's curriculum, level by level, from its TensorBoard log: the env steps
    at which it entered each level and spent there, the privileges' scales, and the training
    success (with the privileges on) over its steps at that level. Empty for a run without a
    curriculum."""
    from skillgym.training.ppo import scalar_series

    series = scalar_series(path, ("curriculum/privileges_level", "rollout/success_rate"))
    levels = series.get("curriculum/privileges_level")
    if not levels:
        return []
    scales = {
        tag.removeprefix("curriculum/"): values
        for tag, values in scalar_series(path, None).items()
        if tag.startswith("curriculum/") and not tag.endswith(("_level", "_success", "_off"))
    }
    success = dict(series.get("rollout/success_rate", []))
    steps = [step for step, _ in levels]
    history = []
    for step, level in levels:
        if history and history[-1]["level"] == int(level):
            continue
        history.append({"level": int(level), "entered": step})
    for i, entry in enumerate(history):
        last = i + 1 == len(history)
        end = steps[-1] if last else history[i + 1]["entered"]
        entry["env_steps"] = end - entry["entered"]
        inside = [
            rate
            for step, rate in success.items()
            if entry["entered"] <= step and (step < end or last and step == end)
        ]
        entry["training_success"] = float(np.mean(inside)) if inside else float("nan")
        entry["scales"] = {
            name: dict(values).get(entry["entered"], values[-1][1])
            for name, values in scales.items()
        }
    return history


def levels_table(runs: list[Run]) -> str:
    """Per privileged run: each curriculum level's entry, env steps spent, scales and training
    success; and the level at which training success first appeared."""
    lines = []
    for run in runs:
        history = level_history(run.path)
        if not history:
            continue
        first = next((e["level"] for e in history if e["training_success"] > 0), None)
        appeared = "never" if first is None else f"at level {first}"
        lines += [
            f"**{run.env_id}, seed {run.seed}** (training success first above 0 {appeared})",
            "",
            "| level | entered at | env steps there | scales | training success |",
            "|---:|---:|---:|---|---:|",
        ]
        for e in history:
            scales = ", ".join(f"{k} {v:.2f}" for k, v in sorted(e["scales"].items()))
            lines.append(
                f"| {e['level']} | {e['entered']:,} | {e['env_steps']:,} | {scales} "
                f"| {e['training_success']:.2f} |"
            )
        lines.append("")
    return "\n".join(lines)


def report(
    run_paths: list[str | os.PathLike], out: str | os.PathLike, name: str = "privileges"
) -> tuple[Path, Path]:
    """Write `<name>.png` and `<name>.md` for these runs, at their common budget, into `out`;
    the table is followed by each privileged run's curriculum, level by level."""
    runs = at_common_budget([read_run(path) for path in run_paths])
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    table = out / f"{name}.md"
    levels = levels_table(runs)
    table.write_text(markdown_table(runs) + (f"\n{levels}" if levels else ""))
    return plot(runs, out / f"{name}.png"), table
