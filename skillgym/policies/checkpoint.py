"""Trained policies on disk: tensors in `weights.pt`, everything else in `metadata.json`.

A checkpoint is a folder: `weights.pt` (the network and observation statistics, all a policy
needs), `metadata.json`, and in a training run's checkpoints `training.pt` (optimizer and
normalizer state for `--resume`). Loading it never unpickles an object: tensors load with
`torch.load(weights_only=True)` and the rest is JSON. The network is Stable-Baselines3's
`ActorCriticPolicy`, rebuilt from the metadata, so the CPU trainer (SB3's PPO) and the on-device
trainer write the same format and every consumer (evaluation, demos, export) reads one format.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import MISSING, asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np
import torch
from stable_baselines3.common.policies import ActorCriticPolicy

from skillgym.core.fields import FieldCheck, check_fields, is_int, is_number
from skillgym.evaluation import evaluate, software_versions
from skillgym.policies.actor import ACTIVATIONS, Actor, mlp_policy
from skillgym.policies.composed import ComposedActor, composed_policy

FORMAT_VERSION = 1
WEIGHTS = "weights.pt"
METADATA = "metadata.json"
TRAINING = "training.pt"


@dataclass
class CheckpointMetadata:
    """Everything but tensors: enough to rebuild the network and to resume training."""

    env_id: str
    obs_size: int
    action_size: int  # the robot's actions: the first entries of the policy's output
    privileged_action_size: int = 0  # training-only channels after them
    net_arch: list[int] = field(default_factory=lambda: [256, 128])
    activation: str = "elu"
    clip_obs: float = 10.0
    trainer: str = "sb3-ppo"
    seed: int = 0
    env_steps: int = 0
    wall_seconds: float = 0.0
    hyperparameters: dict[str, Any] = field(default_factory=dict)
    curriculum: dict[str, Any] = field(default_factory=dict)
    evaluation: dict[str, Any] = field(default_factory=dict)
    # The checkpoint a fine-tune started from, by content rather than by a path that moves:
    # its env steps, success rate and the sha256 of its weights. Empty for a run from scratch.
    started_from: dict[str, Any] = field(default_factory=dict)
    # Empty for a skill's own policy; for a controller that composes frozen skills, its mode
    # and the record of each skill (see skillgym.policies.library).
    controller: dict[str, Any] = field(default_factory=dict)
    format_version: int = FORMAT_VERSION

    @property
    def policy_action_size(self) -> int:
        return self.action_size + self.privileged_action_size


def build_policy(meta: CheckpointMetadata, lr: float = 3e-4) -> ActorCriticPolicy:
    """The network the metadata describes (fresh weights): an MLP actor-critic, or a composed
    controller with its frozen skills' networks."""
    if meta.controller:
        return composed_policy(
            meta.controller,
            meta.obs_size,
            meta.action_size,
            meta.net_arch,
            meta.activation,
            meta.clip_obs,
            lr,
        )
    return mlp_policy(meta.obs_size, meta.policy_action_size, meta.net_arch, meta.activation, lr)


def save_checkpoint(
    path: str | os.PathLike,
    meta: CheckpointMetadata,
    policy: ActorCriticPolicy,
    obs_mean: np.ndarray,
    obs_var: np.ndarray,
    training_state: dict[str, Any] | None = None,
) -> Path:
    """Write the folder atomically: a crash leaves the previous checkpoint intact."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tensors = {
        "policy": {name: value.cpu() for name, value in policy.state_dict().items()},
        "obs_mean": torch.as_tensor(np.asarray(obs_mean, dtype=np.float64)),
        "obs_var": torch.as_tensor(np.asarray(obs_var, dtype=np.float64)),
    }
    staging = Path(tempfile.mkdtemp(prefix=f".{path.name}-", dir=path.parent))
    torch.save(tensors, staging / WEIGHTS)
    if training_state is not None:
        torch.save(training_state, staging / TRAINING)
    (staging / METADATA).write_text(json.dumps(asdict(meta), indent=2) + "\n")
    old = path.with_name(f".{path.name}-old")
    if path.exists():
        shutil.rmtree(old, ignore_errors=True)
        os.replace(path, old)
    os.replace(staging, path)
    shutil.rmtree(old, ignore_errors=True)
    return path


def run_settings(config: Any) -> dict[str, Any]:
    """A run config's fields as its checkpoints record them (`hyperparameters`): all but the env,
    the output folder and the thread count, which are recorded elsewhere or change nothing
    learned."""
    skip = {"env_id", "out", "num_threads"}
    return {k: v for k, v in asdict(config).items() if k not in skip}


def describe(path: str | os.PathLike) -> dict[str, Any]:
    """What identifies a checkpoint wherever it lies: its env steps, the success rate of its
    evaluation and the sha256 of its weights."""
    meta = read_metadata(path)
    digest = hashlib.sha256((Path(path) / WEIGHTS).read_bytes()).hexdigest()
    return {
        "env_steps": meta.env_steps,
        "success_rate": meta.evaluation.get("success_rate"),
        "weights_sha256": digest,
    }


def read_metadata(path: str | os.PathLike) -> CheckpointMetadata:
    """A checkpoint's metadata alone; a ValueError naming the file and the field for anything
    that is not a checkpoint's metadata."""
    path = Path(path)
    if not (path / METADATA).is_file() or not (path / WEIGHTS).is_file():
        raise FileNotFoundError(f"{path} is not a checkpoint: it needs {METADATA} and {WEIGHTS}")
    file = path / METADATA
    try:
        raw = json.loads(file.read_text())
    except json.JSONDecodeError as error:
        raise ValueError(
            f"{file}: not valid JSON ({error.msg}, line {error.lineno} column {error.colno}); "
            "is it truncated?"
        ) from None
    if not isinstance(raw, dict):
        raise ValueError(f"{file}: expected a JSON object, not a {type(raw).__name__}")
    if raw.get("format_version") != FORMAT_VERSION:
        raise ValueError(
            f"{file}: checkpoint format {raw.get('format_version')!r}, expected {FORMAT_VERSION}"
        )
    required = [
        f.name
        for f in fields(CheckpointMetadata)
        if f.default is MISSING and f.default_factory is MISSING
    ]
    check_fields(raw, _FIELD_CHECKS, file, required=required)
    return CheckpointMetadata(**raw)


# What each metadata field must hold.
_FIELD_CHECKS: dict[str, FieldCheck] = {
    "env_id": (lambda v: isinstance(v, str), "an env id"),
    "obs_size": (lambda v: is_int(v) and v > 0, "a positive integer"),
    "action_size": (lambda v: is_int(v) and v > 0, "a positive integer"),
    "privileged_action_size": (lambda v: is_int(v) and v >= 0, "an integer >= 0"),
    "net_arch": (
        lambda v: isinstance(v, list) and len(v) > 0 and all(is_int(n) and n > 0 for n in v),
        "a list of positive layer widths",
    ),
    "activation": (lambda v: v in ACTIVATIONS, f"one of {', '.join(ACTIVATIONS)}"),
    "clip_obs": (lambda v: is_number(v) and v > 0, "a positive number"),
    "trainer": (lambda v: isinstance(v, str), "a string"),
    "seed": (is_int, "an integer"),
    "env_steps": (lambda v: is_int(v) and v >= 0, "an integer >= 0"),
    "wall_seconds": (lambda v: is_number(v) and v >= 0, "a number >= 0"),
    "hyperparameters": (lambda v: isinstance(v, dict), "an object"),
    "curriculum": (lambda v: isinstance(v, dict), "an object"),
    "evaluation": (lambda v: isinstance(v, dict), "an object"),
    "started_from": (lambda v: isinstance(v, dict), "an object"),
    "controller": (lambda v: isinstance(v, dict), "an object"),
    "format_version": (lambda v: v == FORMAT_VERSION, f"{FORMAT_VERSION}"),
}


def read_checkpoint(path: str | os.PathLike) -> tuple[CheckpointMetadata, dict[str, Any]]:
    """Metadata and tensors; a ValueError naming `weights.pt` when it is not a checkpoint's."""
    meta = read_metadata(path)
    file = Path(path) / WEIGHTS
    try:
        tensors = torch.load(file, map_location="cpu", weights_only=True)
    except Exception as error:  # torch raises many kinds for a damaged or foreign file
        raise ValueError(
            f"{file}: not a skillgym weights file ({type(error).__name__} while reading it)"
        ) from None
    missing = {"policy", "obs_mean", "obs_var"} - set(tensors if isinstance(tensors, dict) else ())
    if missing:
        raise ValueError(f"{file}: no {', '.join(sorted(missing))} in it")
    return meta, tensors


def read_training_state(path: str | os.PathLike) -> dict[str, Any]:
    """The optimizer and normalizer state a run's checkpoint keeps for `--resume`."""
    if not (Path(path) / TRAINING).is_file():
        raise FileNotFoundError(f"{path} has no {TRAINING}: it cannot resume a run")
    return torch.load(Path(path) / TRAINING, map_location="cpu", weights_only=True)


def publish_checkpoint(src: str | os.PathLike, dst: str | os.PathLike, episodes: int = 100) -> Path:
    """Copy a run's checkpoint without its training state: what a policy needs, and small. Its
    evaluation becomes what `skillgym eval` scores (`episodes` from seed 0), not the run's own
    last one, which used other seeds and perhaps another version of the task."""
    actor, meta, tensors = read_actor(src)
    meta.evaluation = published_evaluation(actor, meta.env_id, episodes, seed=0)
    return save_checkpoint(dst, meta, actor.policy, tensors["obs_mean"], tensors["obs_var"])


def published_evaluation(actor: Actor, env_id: str, episodes: int, seed: int) -> dict[str, Any]:
    """What `skillgym eval` scores `actor` on `env_id`, with the seed, the date and the software
    versions it was scored with: the record a shipped checkpoint keeps."""
    record = evaluate(env_id, lambda _env: actor.act, episodes, seed)
    record.update(
        seed=seed, date=datetime.date.today().isoformat(), software=software_versions("cpu")
    )
    return record


PRETRAINED_DIR = Path(__file__).parent / "pretrained"


def pretrained_path(env_id: str) -> Path:
    """Where the shipped checkpoint of an env lives: `pretrained/<Robot>-<Skill>`."""
    return PRETRAINED_DIR / env_id.split("/")[-1].removesuffix("-v0")


def load_actor(path: str | os.PathLike) -> tuple[Actor, CheckpointMetadata]:
    actor, meta, _ = read_actor(path)
    return actor, meta


def read_actor(path: str | os.PathLike) -> tuple[Actor, CheckpointMetadata, dict[str, Any]]:
    """A checkpoint's actor, metadata and raw tensors (for copying them exactly)."""
    meta, tensors = read_checkpoint(path)
    policy = build_policy(meta)
    try:
        policy.load_state_dict(tensors["policy"])
    except RuntimeError:
        raise ValueError(
            f"{Path(path) / WEIGHTS}: its tensors do not fit the network {METADATA} describes "
            f"(obs_size {meta.obs_size}, action_size {meta.policy_action_size}, net_arch "
            f"{meta.net_arch}); was {METADATA} edited?"
        ) from None
    if tuple(tensors["obs_mean"].shape) != (meta.obs_size,):
        raise ValueError(
            f"{Path(path) / WEIGHTS}: observation statistics of size "
            f"{tuple(tensors['obs_mean'].shape)}, but {METADATA} says obs_size {meta.obs_size}"
        )
    return actor_of(policy, tensors["obs_mean"], tensors["obs_var"], meta), meta, tensors


def actor_of(
    policy: ActorCriticPolicy, obs_mean: Any, obs_var: Any, meta: CheckpointMetadata
) -> Actor:
    """The deterministic actor of a trained network, in evaluation mode."""
    if meta.controller:
        return ComposedActor(policy).eval()
    return Actor(policy, obs_mean, obs_var, meta.clip_obs, meta.action_size).eval()
