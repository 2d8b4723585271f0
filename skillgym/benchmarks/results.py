"""results.json: the schema-versioned record of one benchmark run, and its printed table."""

from __future__ import annotations

import datetime
import json
from pathlib import Path
from typing import Any

from skillgym.benchmarks.suite import Suite
from skillgym.core.fields import FieldCheck, check_fields, is_int, is_number
from skillgym.evaluation import software_versions

RESULTS_SCHEMA = "skillgym.bench.results"
RESULTS_SCHEMA_VERSION = 1
RESULTS_FILE = "results.json"


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
    check_results(results, path)
    return results


def _is_rate(value: Any) -> bool:
    return is_number(value) and 0.0 <= value <= 1.0


# What a results file must hold to be ranked: field -> (test, what the field must be).
_TOP_FIELDS: dict[str, FieldCheck] = {
    "name": (lambda v: isinstance(v, str) and v != "", "a non-empty string"),
    "backend": (lambda v: v in ("cpu", "mjx"), "'cpu' or 'mjx'"),
    "created": (lambda v: isinstance(v, str), "an ISO date string"),
    "software": (lambda v: isinstance(v, dict), "an object of package versions"),
    "suite": (lambda v: isinstance(v, dict), "an object"),
    "tasks": (lambda v: isinstance(v, list) and len(v) > 0, "a non-empty list"),
}
_SUITE_FIELDS: dict[str, FieldCheck] = {
    "name": (lambda v: isinstance(v, str), "a string"),
    "sha256": (lambda v: isinstance(v, str) and len(v) == 64, "a sha256 hex digest"),
    "tasks": (lambda v: is_int(v) and v > 0, "a count > 0"),
    "episodes_override": (lambda v: v is None or isinstance(v, int), "null or a count"),
}
_TASK_FIELDS: dict[str, FieldCheck] = {
    "task": (lambda v: isinstance(v, str), "a task name"),
    "episodes": (lambda v: is_int(v) and v > 0, "a count"),
    "metrics": (lambda v: isinstance(v, dict), "an object"),
}
_METRIC_FIELDS: dict[str, FieldCheck] = {
    "success_rate": (_is_rate, "a number in [0, 1]"),
    "accuracy_error": (lambda v: v is None or is_number(v), "a number or null"),
}


def check_results(results: dict[str, Any], path: str | Path) -> None:
    """Raise a ValueError naming the file and the first field that is missing or wrong. The
    stored aggregate is not trusted, so it is not required: readers recompute it."""

    check_fields(results, _TOP_FIELDS, path)
    check_fields(results["suite"], _SUITE_FIELDS, path, "suite.")
    names = []
    for i, task in enumerate(results["tasks"]):
        check_fields(task, _TASK_FIELDS, path, f"tasks[{i}].")
        check_fields(task["metrics"], _METRIC_FIELDS, path, f"tasks[{i}].metrics.")
        names.append(task["task"])
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise ValueError(f"{path}: tasks lists {', '.join(repeated)} more than once")
    if len(names) > results["suite"]["tasks"]:
        raise ValueError(
            f"{path}: {len(names)} tasks scored, but suite.tasks says the suite has "
            f"{results['suite']['tasks']}"
        )


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
