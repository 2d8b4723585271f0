"""Domain randomization as data: what varies between episodes, and by how much.

Each env draws its own values at every reset. Ranges are factors of the model's own values
(friction, masses, gains, damping, armature), offsets (the base's centre of mass, m), control
steps (latency), multiples of the standard sensor noise levels, and pushes on the base. The
presets sit next to what common humanoid pipelines use; docs/randomization.md compares them.
"""

from __future__ import annotations

import dataclasses

Range = tuple[float, float]

# Uniform sensor noise of each observation term at `obs_noise` = 1, in the term's own units
# before its scale: the levels legged_gym and its humanoid descendants train with.
NOISE_LEVELS: dict[str, float] = {
    "joint_pos_rel_default": 0.01,  # rad
    "joint_vel": 1.5,  # rad/s
    "imu_gyro": 0.2,  # rad/s
    "projected_gravity": 0.05,
    "base_lin_vel": 0.1,  # m/s
}


@dataclasses.dataclass(frozen=True)
class Randomization:
    """What a randomized env varies; the defaults vary nothing."""

    friction: Range = (1.0, 1.0)  # factor on every geom's sliding friction (floor and objects)
    mass: Range = (1.0, 1.0)  # factor on each body's mass (and inertia), drawn per body
    base_com: float = 0.0  # m, the base body's centre of mass moved by up to this per axis
    kp: Range = (1.0, 1.0)  # factor on each actuator's stiffness
    kd: Range = (1.0, 1.0)  # factor on each actuator's damping
    strength: Range = (1.0, 1.0)  # factor on each actuator's force (and its limit)
    joint_damping: Range = (1.0, 1.0)  # factor on each joint's passive damping
    armature: Range = (1.0, 1.0)  # factor on each joint's armature
    latency: tuple[int, int] = (0, 0)  # control steps between the policy's action and its effect
    obs_noise: float = 0.0  # multiple of NOISE_LEVELS
    push_interval: float = 0.0  # s, mean time between pushes on the base (0: none)
    push_velocity: float = 0.0  # m/s, the largest planar velocity change of a push

    def scaled(self, fraction: float) -> Randomization:
        """This randomization `fraction` of the way from none (0) to all of it (1): every range
        narrowed towards the nominal value, offsets, noise and pushes scaled, the latency's
        bounds rounded. A training run grows it this way (`--randomize-ramp`)."""
        if not 0.0 <= fraction <= 1.0:
            raise ValueError(f"a randomization's fraction lies in [0, 1], not {fraction}")

        def narrowed(bounds: Range) -> Range:
            return (1.0 + fraction * (bounds[0] - 1.0), 1.0 + fraction * (bounds[1] - 1.0))

        factors = ("friction", "mass", "kp", "kd", "strength", "joint_damping", "armature")
        return dataclasses.replace(
            self,
            **{name: narrowed(getattr(self, name)) for name in factors},
            base_com=fraction * self.base_com,
            latency=(round(fraction * self.latency[0]), round(fraction * self.latency[1])),
            obs_noise=fraction * self.obs_noise,
            push_velocity=fraction * self.push_velocity,
        )

    @property
    def varies_model(self) -> bool:
        """Whether any model field varies (the rest act on actions, observations, state)."""
        ranges = (self.friction, self.mass, self.kp, self.kd, self.strength)
        ranges += (self.joint_damping, self.armature)
        return any(r != (1.0, 1.0) for r in ranges) or self.base_com > 0.0


PRESETS: dict[str, Randomization] = {
    "default": Randomization(
        friction=(0.5, 1.25),
        mass=(0.9, 1.1),
        base_com=0.03,
        kp=(0.9, 1.1),
        kd=(0.9, 1.1),
        strength=(0.9, 1.1),
        joint_damping=(0.8, 1.2),
        armature=(0.8, 1.2),
        latency=(0, 2),
        obs_noise=1.0,
        push_interval=8.0,
        push_velocity=0.5,
    ),
    "strong": Randomization(
        friction=(0.3, 1.5),
        mass=(0.8, 1.2),
        base_com=0.05,
        kp=(0.8, 1.2),
        kd=(0.8, 1.2),
        strength=(0.8, 1.2),
        joint_damping=(0.5, 1.5),
        armature=(0.5, 1.5),
        latency=(0, 2),
        obs_noise=1.5,
        push_interval=5.0,
        push_velocity=1.0,
    ),
}


def randomization(preset: str | Randomization | None) -> Randomization | None:
    """A preset by name (or a Randomization as it is; None: none)."""
    if preset is None or isinstance(preset, Randomization):
        return preset
    if preset not in PRESETS:
        raise ValueError(f"unknown randomization preset {preset!r}; presets: {', '.join(PRESETS)}")
    return PRESETS[preset]
