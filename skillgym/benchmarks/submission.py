"""Submissions: policies handed in as data (ONNX graphs and a JSON manifest), never as code.

A submission is a folder:

    submission.json        {"name", "robot", "tasks": [env ids], "layout_version"}
    policy.onnx            observation -> action, for every task; or, per task,
    policies/<task>.onnx   e.g. policies/Tall19-Reach-v0.onnx (taking precedence)

Nothing in it is imported, executed as Python or unpickled: the manifest is read as JSON and the
graphs are checked by `onnx` and run by onnxruntime, restricted to the standard operators.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import gymnasium as gym
import numpy as np

from skillgym.core.robots import ROBOT_NAMES

if TYPE_CHECKING:
    import onnx
    import torch

MANIFEST = "submission.json"
SUITE_POLICY = "policy.onnx"
TASK_POLICIES = "policies"
# The observation and action layout of the skillgym envs a policy was made for; bumped whenever
# an env's flat observation or its action order changes.
LAYOUT_VERSION = 2
MAX_POLICY_BYTES = 32 * 2**20
REQUIRED_FIELDS = {"name": str, "robot": str, "tasks": list, "layout_version": int}
_DEFAULT_DOMAINS = ("", "ai.onnx")
_PROBE_BATCH = 4


@dataclasses.dataclass(frozen=True)
class CheckFailure:
    """One reason a submission is rejected: a stable `code` and a message saying what to fix."""

    code: str
    message: str

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


class SubmissionError(ValueError):
    """A submission that failed its checks; `failures` lists every reason."""

    def __init__(self, directory: Path, failures: list[CheckFailure]) -> None:
        self.failures = failures
        lines = "\n".join(f"  {failure}" for failure in failures)
        super().__init__(f"submission {directory} is not valid:\n{lines}")


@dataclasses.dataclass(frozen=True)
class Submission:
    directory: Path
    name: str
    robot: str
    tasks: tuple[str, ...]  # env ids

    def policy_path(self, env_id: str) -> Path:
        """The graph that acts in `env_id`: its own if it has one, else the suite's."""
        own = self.directory / TASK_POLICIES / f"{env_id.split('/')[-1]}.onnx"
        return own if own.is_file() else self.directory / SUITE_POLICY

    def digests(self) -> dict[str, str]:
        """sha256 of each graph its tasks use, so results name exactly what was scored."""
        paths = sorted({self.policy_path(env_id) for env_id in self.tasks})
        return {
            path.relative_to(self.directory).as_posix(): hashlib.sha256(
                path.read_bytes()
            ).hexdigest()
            for path in paths
        }


def task_sizes(env_id: str) -> tuple[int, int, str]:
    """Observation size, action size and robot of a registered env (flat observations)."""
    env = gym.make_vec(env_id, num_envs=1, vectorization_mode="vector_entry_point")
    try:
        sizes = (env.single_observation_space.shape[0], env.single_action_space.shape[0])
        return (*sizes, env.task.robot.name)
    finally:
        env.close()


def load_submission(directory: str | Path, max_policy_bytes: int = MAX_POLICY_BYTES) -> Submission:
    """A checked submission; raises `SubmissionError` with every failure otherwise."""
    directory = Path(directory)
    failures = check_submission(directory, max_policy_bytes)
    if failures:
        raise SubmissionError(directory, failures)
    manifest = json.loads((directory / MANIFEST).read_text())
    return Submission(directory, manifest["name"], manifest["robot"], tuple(manifest["tasks"]))


def check_submission(
    directory: str | Path, max_policy_bytes: int = MAX_POLICY_BYTES
) -> list[CheckFailure]:
    """Every reason the submission in `directory` cannot be scored (empty: it can)."""
    directory = Path(directory)
    manifest, failures = _check_manifest(directory)
    if manifest is None:
        return failures
    sizes: dict[str, tuple[int, int]] = {}
    for env_id in manifest["tasks"]:
        if env_id not in gym.registry:
            failures.append(CheckFailure("unknown-task", f"{env_id!r} is not a registered env id"))
            continue
        obs_size, action_size, robot = task_sizes(env_id)
        if robot != manifest["robot"]:
            failures.append(
                CheckFailure(
                    "robot-mismatch",
                    f"{env_id} runs robot {robot!r}, the submission is for {manifest['robot']!r}",
                )
            )
        sizes[env_id] = (obs_size, action_size)
    submission = Submission(directory, manifest["name"], manifest["robot"], tuple(sizes))
    for env_id, (obs_size, action_size) in sizes.items():
        path = submission.policy_path(env_id)
        if not path.is_file():
            failures.append(
                CheckFailure(
                    "missing-policy",
                    f"no graph for {env_id}: add {SUITE_POLICY} or "
                    f"{TASK_POLICIES}/{env_id.split('/')[-1]}.onnx",
                )
            )
            continue
        failures += _check_graph(path, directory, obs_size, action_size, max_policy_bytes)
    return _unique(failures)


def _check_manifest(directory: Path) -> tuple[dict[str, Any] | None, list[CheckFailure]]:
    path = directory / MANIFEST
    if not path.is_file():
        return None, [CheckFailure("missing-manifest", f"{path} does not exist")]
    try:
        manifest = json.loads(path.read_text())
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        return None, [CheckFailure("bad-manifest", f"{MANIFEST} is not valid JSON: {error}")]
    if not isinstance(manifest, dict):
        return None, [CheckFailure("bad-manifest", f"{MANIFEST} must hold a JSON object")]
    failures = []
    for field, kind in REQUIRED_FIELDS.items():
        if field not in manifest:
            failures.append(CheckFailure("missing-field", f"{MANIFEST} has no {field!r}"))
        elif not isinstance(manifest[field], kind) or isinstance(manifest[field], bool):
            failures.append(
                CheckFailure("bad-field", f"{MANIFEST}: {field!r} must be a {kind.__name__}")
            )
    if failures:
        return None, failures
    if not manifest["tasks"] or not all(isinstance(t, str) for t in manifest["tasks"]):
        failures.append(CheckFailure("bad-field", f"{MANIFEST}: 'tasks' must list env ids"))
    if manifest["robot"] not in ROBOT_NAMES:
        failures.append(
            CheckFailure(
                "unknown-robot",
                f"robot {manifest['robot']!r} is not one of {', '.join(ROBOT_NAMES)}",
            )
        )
    if manifest["layout_version"] != LAYOUT_VERSION:
        failures.append(
            CheckFailure(
                "layout-version",
                f"layout_version {manifest['layout_version']} was made for other observation "
                f"and action layouts; this skillgym scores layout_version {LAYOUT_VERSION}",
            )
        )
    return (None if failures else manifest), failures


def _check_graph(
    path: Path, directory: Path, obs_size: int, action_size: int, max_bytes: int
) -> list[CheckFailure]:
    """Static checks of one graph, then probe runs of the graphs that pass them."""
    import onnx

    name = str(path.relative_to(directory))
    size = path.stat().st_size
    if size > max_bytes:
        return [CheckFailure("oversized", f"{name} is {size:,} bytes; the limit is {max_bytes:,}")]
    try:
        onnx.checker.check_model(str(path), full_check=True)  # by path: from its own folder
        model = onnx.load(str(path), load_external_data=False)
    except Exception as error:  # onnx raises several unrelated types for malformed files
        return [CheckFailure("invalid-onnx", f"{name} fails onnx.checker: {error}")]
    failures = _external_data(model, name) + _custom_operators(model, name)
    failures += _signature(model, name, obs_size, action_size)
    if failures:
        return failures
    return _probe(path, name, obs_size, action_size)


def _graphs(graph: onnx.GraphProto) -> list[onnx.GraphProto]:
    """A graph and every subgraph (the bodies of If, Loop, Scan) inside it."""
    from onnx import AttributeProto

    found = [graph]
    for node in graph.node:
        for attribute in node.attribute:
            if attribute.type == AttributeProto.GRAPH:
                found += _graphs(attribute.g)
            elif attribute.type == AttributeProto.GRAPHS:
                for subgraph in attribute.graphs:
                    found += _graphs(subgraph)
    return found


def _external_data(model: onnx.ModelProto, name: str) -> list[CheckFailure]:
    """Weights must live inside the file: an external reference could point anywhere."""
    from onnx import TensorProto

    tensors = [t for graph in _graphs(model.graph) for t in graph.initializer]
    external = [t.name for t in tensors if t.data_location == TensorProto.EXTERNAL]
    if external:
        return [
            CheckFailure("external-data", f"{name} keeps tensors outside the file: {external[:3]}")
        ]
    return []


def _custom_operators(model: onnx.ModelProto, name: str) -> list[CheckFailure]:
    nodes = [node for graph in _graphs(model.graph) for node in graph.node]
    custom = sorted({f"{n.domain}::{n.op_type}" for n in nodes if n.domain not in _DEFAULT_DOMAINS})
    custom += [f"function {f.domain}::{f.name}" for f in model.functions]
    if custom:
        return [
            CheckFailure(
                "custom-operator",
                f"{name} uses operators outside the standard ONNX domain: {', '.join(custom)}",
            )
        ]
    return []


def _signature(
    model: onnx.ModelProto, name: str, obs_size: int, action_size: int
) -> list[CheckFailure]:
    """One float32 input (batch, obs_size) and one float32 output (batch, action_size), with a
    free batch dimension so that one call acts for every env of a batch."""
    from onnx import TensorProto

    initializers = {t.name for t in model.graph.initializer}
    inputs = [i for i in model.graph.input if i.name not in initializers]
    if len(inputs) != 1 or len(model.graph.output) != 1:
        return [
            CheckFailure(
                "io-signature",
                f"{name} has {len(inputs)} inputs and {len(model.graph.output)} outputs; "
                "it needs one observation input and one action output",
            )
        ]
    failures = []
    for role, value, size in (
        ("input", inputs[0], obs_size),
        ("output", model.graph.output[0], action_size),
    ):
        tensor = value.type.tensor_type
        if tensor.elem_type != TensorProto.FLOAT:
            failures.append(CheckFailure("io-signature", f"{name}: the {role} must be float32"))
            continue
        dims = [d.dim_value if d.HasField("dim_value") else None for d in tensor.shape.dim]
        if len(dims) != 2 or dims[1] != size or dims[0] is not None:
            shown = ["batch" if d is None else d for d in dims]
            failures.append(
                CheckFailure(
                    "shape-mismatch",
                    f"{name}: {role} {value.name!r} has shape {shown}, the task needs "
                    f"[batch, {size}] with a free batch dimension",
                )
            )
    return failures


def _probe(path: Path, name: str, obs_size: int, action_size: int) -> list[CheckFailure]:
    """Run the graph on fixed probe observations: outputs of the right shape, all finite."""
    from skillgym.benchmarks.policy_spec import OnnxPolicy

    probes = np.random.default_rng(0).normal(size=(_PROBE_BATCH, obs_size)).astype(np.float32)
    probes[0] = 0.0
    probes[1] *= 10.0  # large but plausible observations
    try:
        actions = OnnxPolicy(path)(probes)
    except Exception as error:  # onnxruntime's own error types
        return [CheckFailure("runtime-error", f"onnxruntime cannot run {name}: {error}")]
    if actions.shape != (_PROBE_BATCH, action_size):
        return [
            CheckFailure(
                "shape-mismatch",
                f"{name} returned shape {list(actions.shape)} for {_PROBE_BATCH} observations, "
                f"expected {[_PROBE_BATCH, action_size]}",
            )
        ]
    if not np.isfinite(actions).all():
        return [CheckFailure("non-finite-output", f"{name} returns NaN or inf on probe inputs")]
    return []


def _unique(failures: list[CheckFailure]) -> list[CheckFailure]:
    """One report of a shared policy.onnx's faults, not one per task."""
    return list(dict.fromkeys(failures))


def export_submission(
    policy: torch.nn.Module | Mapping[str, torch.nn.Module],
    out_dir: str | Path,
    *,
    name: str,
    tasks: list[str],
    opset: int = 20,
) -> Submission:
    """Export a torch policy (observation batch -> action batch) as a checked submission.

    One module serves every task in `tasks` (they must share observation and action sizes) as
    policy.onnx; a mapping from env id to module writes one graph per task."""
    import torch

    from skillgym.policies.onnx import export_onnx

    if not isinstance(policy, torch.nn.Module | Mapping):
        raise TypeError(
            "export_submission: policy must be a torch.nn.Module or a mapping of env id to "
            f"module, not {type(policy).__name__}"
        )
    if isinstance(tasks, str) or not all(isinstance(env_id, str) for env_id in tasks):
        raise TypeError(f"export_submission: tasks must be a list of env ids, not {tasks!r:.60}")
    out_dir = Path(out_dir)
    sizes = {env_id: task_sizes(env_id) for env_id in tasks}
    robots = sorted({robot for _, _, robot in sizes.values()})
    if len(robots) != 1:
        raise ValueError(f"a submission is for one robot; these tasks run {robots}")
    if isinstance(policy, Mapping):
        if set(policy) != set(tasks):
            raise ValueError(f"policies given for {sorted(policy)}, tasks are {sorted(tasks)}")
        graphs = {
            out_dir / TASK_POLICIES / f"{env_id.split('/')[-1]}.onnx": (policy[env_id], env_id)
            for env_id in tasks
        }
    else:
        graphs = {out_dir / SUITE_POLICY: (policy, tasks[0])}
    for path, (module, env_id) in graphs.items():
        export_onnx(module, sizes[env_id][0], path, "observation", "action", opset=opset)
    manifest = {
        "name": name,
        "robot": robots[0],
        "tasks": list(tasks),
        "layout_version": LAYOUT_VERSION,
    }
    (out_dir / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
    return load_submission(out_dir)
