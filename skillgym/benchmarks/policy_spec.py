"""`--policy` specs: a short string names the policy a benchmark scores.

`zero`, `random` and `scripted` are the reference policies of `skillgym.policies.scripted`;
`onnx:PATH` runs an ONNX graph (observation -> action) with onnxruntime; `checkpoint:PATH` runs a
trained checkpoint folder (weights plus JSON metadata), and `pretrained` the checkpoint shipped
for the scored env; `switcher` drives the robot's shipped skills with the task's own
decomposition and no learning (the composed controller's `scripted` mode). Further kinds plug in
with `register_policy_scheme`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from gymnasium.vector import VectorEnv

from skillgym.policies.scripted import Policy, RandomPolicy, ZeroPolicy, scripted_policy


@dataclasses.dataclass(frozen=True)
class PolicyContext:
    """What a loader may use to build a policy for one scored task."""

    env: VectorEnv  # the scored batch: its spaces, task and (for scripted policies) its state
    seed: int  # the task's seed, for policies that draw random numbers


@dataclasses.dataclass(frozen=True)
class LoadedPolicy:
    policy: Policy
    description: str  # what actually ran, for the results file


PolicyLoader = Callable[[str, PolicyContext], LoadedPolicy]
"""Builds a policy from the part of the spec after `scheme:` (empty for bare names)."""


class OnnxPolicy:
    """An ONNX graph from a batch of float32 observations to a batch of actions.

    One intra-op thread: benchmark jobs run side by side, and the outputs stay reproducible."""

    def __init__(self, path: str | Path) -> None:
        import onnxruntime

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        self.session = onnxruntime.InferenceSession(
            str(path), options, providers=["CPUExecutionProvider"]
        )
        self.input_name = self.session.get_inputs()[0].name

    def __call__(self, obs: Any) -> np.ndarray:
        feed = {self.input_name: np.asarray(obs, dtype=np.float32)}
        return np.asarray(self.session.run(None, feed)[0], dtype=np.float64)


def _zero(argument: str, context: PolicyContext) -> LoadedPolicy:
    return LoadedPolicy(ZeroPolicy(context.env), "zero")


def _random(argument: str, context: PolicyContext) -> LoadedPolicy:
    return LoadedPolicy(
        RandomPolicy(context.env, seed=context.seed), f"random (seed {context.seed})"
    )


def _scripted(argument: str, context: PolicyContext) -> LoadedPolicy:
    controller = scripted_policy(context.env)
    if controller is None:
        return LoadedPolicy(ZeroPolicy(context.env), "zero (no scripted controller)")
    return LoadedPolicy(controller, f"scripted ({type(controller).__name__})")


def _check_fits(policy: str, sizes: tuple[Any, Any], context: PolicyContext) -> None:
    """A policy's (observation, action) sizes against the scored env's; a size that is not a
    number (a symbolic ONNX dimension) fits any."""
    expected = (context.env.single_observation_space.shape[0], context.env.model.nu)
    if any(
        size != want for size, want in zip(sizes, expected, strict=True) if isinstance(size, int)
    ):
        raise ValueError(
            f"{policy} maps {sizes[0]} observations to {sizes[1]} actions; "
            f"{context.env.env_id} has {expected[0]} and {expected[1]}"
        )


def _onnx(argument: str, context: PolicyContext) -> LoadedPolicy:
    if not Path(argument).is_file():
        raise ValueError(f"onnx policy file {argument!r} does not exist")
    policy = OnnxPolicy(argument)
    sizes = (policy.session.get_inputs()[0].shape[-1], policy.session.get_outputs()[0].shape[-1])
    _check_fits(f"onnx graph {argument}", sizes, context)
    return LoadedPolicy(policy, f"onnx ({Path(argument).name})")


def _checkpoint(argument: str, context: PolicyContext) -> LoadedPolicy:
    from skillgym.policies.checkpoint import load_actor

    actor, meta = load_actor(argument)
    if meta.env_id != context.env.env_id:
        raise ValueError(
            f"checkpoint {argument} is trained for {meta.env_id}, not {context.env.env_id}"
        )
    _check_fits(f"checkpoint {argument}", (meta.obs_size, meta.action_size), context)
    return LoadedPolicy(actor.act, f"checkpoint ({meta.env_id}, {meta.env_steps:,} steps)")


def _pretrained(argument: str, context: PolicyContext) -> LoadedPolicy:
    from skillgym.policies.checkpoint import pretrained_path

    path = pretrained_path(context.env.env_id)
    if not path.exists():  # a suite scores every task: one without a checkpoint does nothing
        return LoadedPolicy(ZeroPolicy(context.env), "zero (no shipped checkpoint)")
    return _checkpoint(str(path), context)


def _switcher(argument: str, context: PolicyContext) -> LoadedPolicy:
    import torch

    from skillgym.policies.composed import make_composer
    from skillgym.policies.library import composed_skills

    env = context.env
    if not hasattr(env.task, "skill_slots"):
        return LoadedPolicy(ZeroPolicy(env), "zero (no skills to compose)")
    env.reset(seed=context.seed)  # the task's slots are read from a reset env
    records, skills = composed_skills(env)
    controller = {"mode": "scripted", "residual": True, "skills": records}
    composer = make_composer(controller, skills, env.model.nu)

    @torch.no_grad()
    def policy(obs: Any) -> np.ndarray:
        obs = torch.as_tensor(np.asarray(obs), dtype=torch.float32)
        return torch.clamp(composer(obs[..., :0], obs), -1.0, 1.0).numpy()

    return LoadedPolicy(policy, "switcher (shipped skills, the task's decomposition)")


_SCHEMES: dict[str, PolicyLoader] = {
    "zero": _zero,
    "random": _random,
    "scripted": _scripted,
    "onnx": _onnx,
    "checkpoint": _checkpoint,
    "pretrained": _pretrained,
    "switcher": _switcher,
}


def register_policy_scheme(scheme: str, loader: PolicyLoader) -> None:
    """Make `scheme:ARGUMENT` (or bare `scheme`) a valid policy spec, built by `loader`.

    This process only: the workers of `bench(jobs=N)` are fresh interpreters that know the
    schemes registered when this module is imported, so a scheme meant for them belongs in
    `_SCHEMES` (as a trained-checkpoint loader shipped with skillgym would)."""
    _SCHEMES[scheme] = loader


def make_policy(spec: str, context: PolicyContext) -> LoadedPolicy:
    """The policy a spec names, built for the env in `context`."""
    scheme, _, argument = spec.partition(":")
    loader = _SCHEMES.get(scheme)
    if loader is None:
        raise ValueError(
            f"unknown policy {spec!r}: known kinds are {', '.join(sorted(_SCHEMES))} "
            "(with a path after the colon for onnx:PATH); others plug in with "
            "skillgym.benchmarks.register_policy_scheme"
        )
    return loader(argument, context)
