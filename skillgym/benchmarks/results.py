"""results.json: the schema-versioned record of one benchmark run, and its printed table."""

from __future__ import annotations

import datetime
import json
import platform
from importlib import metadata
from pathlib import Path
from typing import Any

from skillgym.benchmarks.suite import Suite

RESULTS_SCHEMA = "skillgym.bench.results"
RESULTS_SCHEMA_VERSION = 1
RESULTS_FILE = "results.json"
_VERSIONED = ("skillgym", "mujoco", "numpy", "gymnasium", "onnxruntime", "torch")
_MJX_VERSIONED = ("jax", "jaxlib", "mujoco-mjx")


def software_versions(backend: str) -> dict[str, str | None]:
    """Versions of what the numbers depend on (None: not installed)."""
    names = _VERSIONED + (_MJX_VERSIONED if backend == "mjx" else ())
    versions: dict[str, str | None] = {"python": platform.python_version()}
    for name in names:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def build_results(
    suite: Suite,
    tasks: list[dict[str, Any]],
    *,
    name: str,
    policy: dict[str, Any],
    backend: str,
    episodes_override: int | None,
) -> dict[str, Any]:
    """The results document; `aggregate.success_rate` is the mean success over its tasks."""
    successes = [task["metrics"]["success_rate"] for task in tasks]
    return {
        "schema": RESULTS_SCHEMA,
        "schema_version": RESULTS_SCHEMA_VERSION,
        "name": name,
        "suite": {
            "name": suite.name,
            "sha256": suite.sha256,
            "tasks": len(suite.tasks),
            "episodes_override": episodes_override,
        },
        "policy": policy,
        "backend": backend,
        "robots": sorted({task["robot"] for task in tasks}),
        "software": software_versions(backend),
        "created": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "tasks": tasks,
        "aggregate": {
            "success_rate": sum(successes) / len(successes),
            "tasks_scored": len(tasks),
        },
    }


def write_results(results: dict[str, Any], out_dir: str | Path) -> Path:
    path = Path(out_dir) / RESULTS_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=2, allow_nan=False) + "\n")
    return path


def read_results(path: str | Path) -> dict[str, Any]:
    """A results file (or the results.json in a folder), checked to be one this code reads."""
    path = Path(path)
    if path.is_dir():
        path = path / RESULTS_FILE
    try:
        results = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as error:
        raise ValueError(f"cannot read results {path}: {error}") from error
    if not isinstance(results, dict) or results.get("schema") != RESULTS_SCHEMA:
        raise ValueError(f"{path} is not a skillgym results file")
    if results.get("schema_version") != RESULTS_SCHEMA_VERSION:
        raise ValueError(
            f"{path} has results schema version {results.get('schema_version')}; "
            f"this skillgym reads version {RESULTS_SCHEMA_VERSION}"
        )
    return results


def format_table(results: dict[str, Any]) -> str:
    """A Markdown table of the headline numbers per task, and the aggregate."""
    header = ("task", "episodes", "success", "accuracy error", "falls", "energy", "action change")
    rows = [header, tuple("---" for _ in header)]
    for task in results["tasks"]:
        metrics = task["metrics"]
        rows.append(
            (
                task["task"],
                str(task["episodes"]),
                percent(metrics["success_rate"]),
                f"{_number(metrics['accuracy_error'])} ({task['accuracy_metric']})",
                percent(metrics["fall_rate"]),
                _number(metrics["energy"]),
                _number(metrics["action_change"]),
            )
        )
    aggregate = results["aggregate"]["success_rate"]
    lines = ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join([*lines, "", f"aggregate success: {percent(aggregate)}"])


def percent(value: float | None) -> str:
    """A rate for a table cell."""
    return "n/a" if value is None else f"{value:.0%}"


def _number(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3g}"
