"""Small array-API helpers and rotations that task functions share.

Task functions are written against the Python array API so that NumPy evaluates them on batches
and jax.numpy evaluates them under `jit`/`vmap`: every function works on any number of leading
batch dimensions, never mutates its inputs and never branches in Python on array values.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

import numpy as np

Array = Any


def xp_of(x: Array) -> ModuleType:
    """The array-API namespace of an array: numpy for NumPy arrays, jax.numpy for JAX arrays."""
    if type(x) is np.ndarray:  # the per-step hot path on the CPU backend
        return np
    return x.__array_namespace__()


def norm(x: Array) -> Array:
    """Euclidean norm over the last axis."""
    xp = xp_of(x)
    return xp.sqrt(xp.sum(x * x, axis=-1))


def gravity_in_frame(xmat: Array) -> Array:
    """Unit gravity direction expressed in a frame given by its row-major rotation matrix (..., 9).

    It is minus the third row of R: (0, 0, -1) for an upright frame.
    """
    return -xmat[..., 6:9]


def in_frame(xmat: Array, vec: Array) -> Array:
    """World vectors (..., 3) in a frame given by its row-major rotation matrix (..., 9)."""
    xp = xp_of(vec)
    rotation = xp.reshape(xmat, xmat.shape[:-1] + (3, 3))
    return xp.sum(rotation * vec[..., :, None], axis=-2)


def relative_rotation(xmat: Array, other: Array) -> Array:
    """The rotation of frame `other` in frame `xmat`, both row-major (..., 9): R^T R_other."""
    xp = xp_of(other)
    a = xp.reshape(xmat, xmat.shape[:-1] + (3, 3))
    b = xp.reshape(other, other.shape[:-1] + (3, 3))
    product = xp.sum(a[..., :, :, None] * b[..., :, None, :], axis=-3)
    return xp.reshape(product, product.shape[:-2] + (9,))


def heading_rotate(xmat: Array, vec_xy: Array) -> Array:
    """Rotate world-frame xy vectors into the frame's heading (yaw-only) frame."""
    xp = xp_of(vec_xy)
    fx, fy = xmat[..., 0], xmat[..., 3]  # world x/y of the frame's x axis
    scale = xp.sqrt(fx * fx + fy * fy) + 1e-9
    c, s = fx / scale, fy / scale
    x, y = vec_xy[..., 0], vec_xy[..., 1]
    return xp.stack([c * x + s * y, -s * x + c * y], axis=-1)


def heading_unrotate(xmat: Array, vec_xy: Array) -> Array:
    """Inverse of `heading_rotate`: heading-frame xy vectors into the world frame."""
    xp = xp_of(vec_xy)
    fx, fy = xmat[..., 0], xmat[..., 3]
    scale = xp.sqrt(fx * fx + fy * fy) + 1e-9
    c, s = fx / scale, fy / scale
    x, y = vec_xy[..., 0], vec_xy[..., 1]
    return xp.stack([c * x - s * y, s * x + c * y], axis=-1)


def uniform(u: Array, low: Array, high: Array) -> Array:
    """Map uniform samples in [0, 1) onto [low, high)."""
    return low + (high - low) * u


def free_pose(xyz: Array, yaw: Array) -> Array:
    """Free-joint qpos (position, then w, x, y, z quaternion) of a body at `xyz` turned by `yaw`
    about the vertical, (..., 7)."""
    xp = xp_of(xyz)
    half = yaw / 2.0
    zeros = xp.zeros_like(half)
    return xp.concat([xyz, xp.stack([xp.cos(half), zeros, zeros, xp.sin(half)], axis=-1)], axis=-1)


def put_free_pose(qpos: Array, adr: int, pose: Array) -> Array:
    """A copy of qpos with the free joint whose 7 numbers start at `adr` set to `pose` (..., 7)."""
    return put(qpos, np.arange(adr, adr + 7), pose)


def put(x: Array, index: Any, values: Array) -> Array:
    """A copy of x with the entries at positions `index` of the last axis set to `values`."""
    if type(x) is np.ndarray:
        out = x.copy()
        out[..., index] = values
        return out
    return x.at[..., index].set(values)  # JAX arrays are immutable and say so through .at
