"""Compiling a task into its model, with the privileges of a privileged env bound to it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import mujoco
import numpy as np

from skillgym.core.arrays import Array, xp_of
from skillgym.core.privileges import Privilege
from skillgym.core.snapshot import Snapshot
from skillgym.core.task import ResetSample, Task


class Privileges:
    """A task's privileges bound to its compiled model: their sizes and scales, and the pure
    functions the backends call. Scales are arrays (..., len(names)) in declaration order;
    action channels follow the robot's, privilege by privilege in the same order."""

    def __init__(self, task: Task, configs: tuple[Privilege, ...]) -> None:
        self.task = task
        self.configs = configs
        self.names = tuple(p.name for p in configs)
        if len(set(self.names)) != len(self.names):
            raise ValueError(f"{task.name}: a privilege is declared twice in {self.names}")
        self.action_size = sum(p.action_size for p in configs)
        self.start_uniforms = sum(p.start_uniforms for p in configs)
        ends = np.cumsum([0] + [p.action_size for p in configs]).tolist()
        self.action_slices = [slice(a, b) for a, b in zip(ends[:-1], ends[1:], strict=True)]

    def edit_spec(self, spec: mujoco.MjSpec) -> None:
        for privilege in self.configs:
            privilege.edit_spec(spec, self.task)

    def bind(self, model: mujoco.MjModel) -> None:
        self.bound = [p.bind(self.task, model) for p in self.configs]
        self.nbody = model.nbody
        # One-hot (k, nbody, 1) maps that spread each privilege's (..., k, 6) wrench onto bodies.
        self.onto = []
        for bound in self.bound:
            onto = np.zeros((len(bound.bodies), model.nbody, 1))
            onto[np.arange(len(bound.bodies)), bound.bodies] = 1.0
            self.onto.append(onto)
        mocap_bodies = [np.flatnonzero(model.body_mocapid == i)[0] for i in range(model.nmocap)]
        self.mocap_home = model.body_pos[mocap_bodies].reshape(model.nmocap, 3)

    def scales_at(self, level: int) -> np.ndarray:
        """Every privilege's scale at curriculum level `level`, (len(names),)."""
        return np.array([float(p.schedule.scale(level)) for p in self.configs])

    def merged(self, scales: Mapping[str, Any], current: np.ndarray) -> np.ndarray:
        """`current` (num_envs, len(names)) with the named scales (scalars or per env) set."""
        unknown = set(scales) - set(self.names)
        if unknown:
            raise ValueError(f"unknown privileges {sorted(unknown)}; this env has {self.names}")
        out = np.array(current, dtype=np.float64, copy=True)
        for name, value in scales.items():
            out[:, self.names.index(name)] = value
        return out

    def wrench(self, snap: Snapshot, action: Array, scales: Array) -> Array:
        """`xfrc_applied` of every body, (..., nbody, 6), from the privileged action channels."""
        xp = xp_of(snap.qpos)
        total = xp.zeros(snap.qpos.shape[:-1] + (self.nbody, 6), dtype=snap.qpos.dtype)
        for i, (privilege, bound) in enumerate(zip(self.configs, self.bound, strict=True)):
            if not len(bound.bodies):
                continue
            channels = action[..., self.action_slices[i]]
            wrench = privilege.wrench(bound, self.task, snap, channels, scales[..., i])
            onto = xp.asarray(self.onto[i], dtype=snap.qpos.dtype)
            total = total + xp.sum(wrench[..., :, None, :] * onto, axis=-3)
        return total

    def mocap_pos(self, scales: Array) -> Array:
        """Every env's mocap body positions, (..., nmocap, 3): the model's, moved by the
        privileges at these scales."""
        xp = xp_of(scales)
        pos = xp.asarray(self.mocap_home, dtype=scales.dtype)
        for i, (privilege, bound) in enumerate(zip(self.configs, self.bound, strict=True)):
            offset = privilege.mocap_offset(bound, scales[..., i])
            if offset is not None:
                pos = pos + offset
        return pos

    def start(self, qpos: Array, goal: Array, u: Array, scales: Array) -> tuple[Array, Array]:
        """An episode's initial positions and goal, from the task's sample: `u` holds
        `start_uniforms` uniform samples per env, shared out in declaration order."""
        used = 0
        for i, (privilege, bound) in enumerate(zip(self.configs, self.bound, strict=True)):
            draws = u[..., used : used + privilege.start_uniforms]
            used += privilege.start_uniforms
            qpos, goal = privilege.start(bound, qpos, goal, draws, scales[..., i])
        return qpos, goal


def start_uniforms(task: Task, privileges: Privileges | None) -> int:
    """Uniform draws per env that `sample_start` takes: the task's, then the privileges'."""
    return task.reset_uniforms + (privileges.start_uniforms if privileges is not None else 0)


def sample_start(task: Task, privileges: Privileges | None, u: Array, scales: Array) -> ResetSample:
    """An episode's start from `start_uniforms` draws per env: the task's sample, then what the
    privileges (if any) make of it at these scales. A plain env draws what it always drew."""
    sample = task.sample_reset(u[..., : task.reset_uniforms])
    if privileges is None:
        return sample
    draws = u[..., task.reset_uniforms :]
    qpos, goal = privileges.start(sample.qpos, sample.goal, draws, scales)
    return sample._replace(qpos=qpos, goal=goal)


def compile_task(task: Task, privileged: bool) -> tuple[mujoco.MjModel, Privileges | None]:
    """The task's model, bound, and its privileges where the env is a privileged one."""
    if privileged and not task.config.privileges:
        raise ValueError(
            f"{task.name} on {task.robot.name} has no privileges, so it has no privileged "
            "variant: make it without privileged=True"
        )
    spec = task.build_spec()
    privileges = Privileges(task, task.config.privileges) if privileged else None
    if privileges is not None:
        privileges.edit_spec(spec)
    model = spec.compile()
    task.bind(model)
    if privileges is not None:
        privileges.bind(model)
    return model, privileges
