"""Domain randomization on the CPU backend: per-env model fields, latency, noise and pushes.

Model fields vary per env through `mujoco.batch`'s per-simulation fields (`Batch.expand`), drawn
again at every reset of that env; `set_const` then recomputes what MuJoCo derives from masses.
"""

from __future__ import annotations

import mujoco
import numpy as np

from skillgym.core.randomization import NOISE_LEVELS, Randomization
from skillgym.core.task import Task
from skillgym.envs.cpu import CpuPhysics


class CpuRandomizer:
    """Draws and applies one `Randomization` for every env of a CPU batch: all of it, or a
    fraction of it (`set_fraction`), which the envs take at their next reset."""

    def __init__(
        self,
        spec: Randomization,
        physics: CpuPhysics,
        observation_layout: dict[str, tuple[int, int]],
        task: Task,
    ) -> None:
        self.full = self.spec = spec
        self.physics = physics
        model = physics.model
        batch = physics.batch
        n = physics.num_envs
        self.nominal = {}
        self.fields = {}
        if spec.varies_model:
            names = ("geom_friction", "body_mass", "body_inertia", "body_ipos")
            names += ("actuator_gainprm", "actuator_biasprm", "actuator_forcerange")
            names += ("dof_damping", "dof_armature")
            for name in names:
                self.nominal[name] = np.array(getattr(model, name))
                self.fields[name] = batch.expand(name)
        free = np.flatnonzero(model.jnt_type == mujoco.mjtJoint.mjJNT_FREE)
        self.base_body = int(model.jnt_bodyid[free[0]]) if len(free) else None
        self.base_dof = int(model.jnt_dofadr[free[0]]) if len(free) else None
        self.latency = np.zeros(n, dtype=int)
        self.queue = np.zeros((n, spec.latency[1] + 1, model.nu))  # newest action first
        # Noise per observation entry, in observation units (the term's scale applied).
        scales = {name: source[1] for name, source in task.observation_sources().items()}
        noise = np.zeros(sum(size for _, size in observation_layout.values()))
        for name, (start, size) in observation_layout.items():
            level = NOISE_LEVELS.get(name, 0.0)
            noise[start : start + size] = spec.obs_noise * level * abs(scales[name])
        self.full_noise = self.noise = noise

    def set_fraction(self, fraction: float) -> None:
        """Randomize `fraction` (0 to 1) of the full randomization from now on: draws at each
        env's next reset, sensor noise at once."""
        self.spec = self.full.scaled(fraction)
        self.noise = fraction * self.full_noise

    def resample(self, ids: np.ndarray, rng: np.random.Generator) -> None:
        """New draws for envs `ids` (at their reset)."""
        spec, k = self.spec, len(ids)
        self.latency[ids] = rng.integers(spec.latency[0], spec.latency[1] + 1, k)
        self.queue[ids] = 0.0  # before the episode, the default pose was commanded
        if not self.full.varies_model:
            return
        nominal, fields = self.nominal, self.fields

        def factor(bounds: tuple[float, float], shape: tuple[int, ...]) -> np.ndarray:
            return rng.uniform(bounds[0], bounds[1], (k, *shape))

        friction = nominal["geom_friction"][None].repeat(k, axis=0)
        friction[..., 0] *= factor(spec.friction, (1,))
        fields["geom_friction"][ids] = friction
        mass = factor(spec.mass, nominal["body_mass"].shape)
        fields["body_mass"][ids] = nominal["body_mass"] * mass
        fields["body_inertia"][ids] = nominal["body_inertia"] * mass[..., None]
        ipos = nominal["body_ipos"][None].repeat(k, axis=0)
        if self.base_body is not None:
            ipos[:, self.base_body] += rng.uniform(-spec.base_com, spec.base_com, (k, 3))
        fields["body_ipos"][ids] = ipos
        kp = factor(spec.kp, (self.physics.model.nu,))
        kd = factor(spec.kd, (self.physics.model.nu,))
        strength = factor(spec.strength, (self.physics.model.nu,))
        gain = nominal["actuator_gainprm"][None].repeat(k, axis=0)
        bias = nominal["actuator_biasprm"][None].repeat(k, axis=0)
        gain[..., 0] *= kp * strength
        bias[..., 1] *= kp * strength
        bias[..., 2] *= kd * strength
        fields["actuator_gainprm"][ids] = gain
        fields["actuator_biasprm"][ids] = bias
        fields["actuator_forcerange"][ids] = nominal["actuator_forcerange"] * strength[..., None]
        fields["dof_damping"][ids] = nominal["dof_damping"] * factor(
            spec.joint_damping, nominal["dof_damping"].shape
        )
        fields["dof_armature"][ids] = nominal["dof_armature"] * factor(
            spec.armature, nominal["dof_armature"].shape
        )
        self.physics.batch.set_const(ids)

    def delay(self, action: np.ndarray) -> np.ndarray:
        """The action each env applies now: its policy's from `latency` control steps ago."""
        self.queue[:, 1:] = self.queue[:, :-1]
        self.queue[:, 0] = action
        return self.queue[np.arange(len(action)), self.latency]

    def push(self, dt: float, rng: np.random.Generator) -> None:
        """Kick the base of each env with probability dt / push_interval: a planar velocity
        change of up to `push_velocity`."""
        spec = self.spec
        if spec.push_interval <= 0.0 or self.base_dof is None:
            return
        hit = np.flatnonzero(rng.random(self.physics.num_envs) < dt / spec.push_interval)
        if len(hit):
            kick = rng.uniform(-spec.push_velocity, spec.push_velocity, (len(hit), 2))
            qvel = self.physics.snapshot().qvel
            qvel[hit, self.base_dof : self.base_dof + 2] += kick

    def observe(self, obs: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Observations with sensor noise."""
        if not self.noise.any():
            return obs
        return (obs + rng.uniform(-1.0, 1.0, obs.shape) * self.noise).astype(obs.dtype)
