"""What task functions see of the simulator: a `Snapshot` of one control step."""

from __future__ import annotations

from typing import NamedTuple

from skillgym.core.arrays import Array


class Snapshot(NamedTuple):
    """Simulator quantities at one control step (leading batch dimensions allowed)."""

    qpos: Array  # (..., nq)
    qvel: Array  # (..., nv)
    site_xpos: Array  # (..., nsite, 3)
    site_xmat: Array  # (..., nsite, 9)
    xpos: Array  # (..., nbody, 3) body positions, for objects
    sensordata: Array  # (..., nsensordata)
    actuator_force: Array  # (..., nu)


SNAPSHOT_FIELDS: tuple[str, ...] = Snapshot._fields
