"""The check every backend makes of the actions it is given: shape, finite values, the box."""

from __future__ import annotations

from types import ModuleType
from typing import Any

import numpy as np


def check_action(
    actions: Any,
    shape: tuple[int, ...],
    env_id: str,
    xp: ModuleType = np,
    dtype: type[np.floating] = np.float64,
) -> Any:
    """`actions` as an array of `xp` (NumPy, or jax.numpy for actions on the device) of `dtype`,
    clipped to [-1, 1]; a ValueError naming `env_id` and `shape` when their shape differs or
    they hold NaN or inf. On the device the finiteness check runs there and reads back one bool.
    """
    actions = xp.asarray(actions, dtype=dtype)
    if actions.shape != shape:
        raise ValueError(f"{env_id}: action has shape {actions.shape}, expected {shape}")
    if not bool(xp.isfinite(actions).all()):
        raise ValueError(
            f"{env_id}: action contains NaN or inf (expected finite values of shape {shape} "
            "in [-1, 1])"
        )
    return xp.clip(actions, -1.0, 1.0)
