"""MJCF assets: robot scenes and props that can be attached into a robot scene.

Robots are standalone scenes (``robots/<name>.xml``). Props (``props/<name>.xml``) each hold a
single top-level body named after the prop; :func:`add_prop` attaches a copy of it into a spec
under the prefix ``"<instance name>/"``, so every joint, geom, site and body of the prop is
renamed, e.g. ``add_prop(spec, "box_small", "cube")`` yields body ``cube/box_small``, free
joint ``cube/free``, geom ``cube/geom`` and site ``cube/center``.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from pathlib import Path

import mujoco

ASSETS_DIR: Path = Path(__file__).resolve().parent
"""Folder holding the ``robots/`` and ``props/`` MJCF files."""

PROPS: tuple[str, ...] = (
    "table",
    "box_flat",
    "box_small",
    "box_large",
    "package",
    "ball",
    "soccer_goal",
    "wall_button",
    "cabinet",
    "goal_marker",
    "platform",
    "edge_wall",
)
"""Prop names, one ``props/<name>.xml`` each, whose top-level body has the same name."""


def robot_path(name: str) -> Path:
    """Return the path of the MJCF scene of robot ``name``.

    Raises:
        ValueError: if there is no ``robots/<name>.xml``.
    """
    path = ASSETS_DIR / "robots" / f"{name}.xml"
    if not (name.isalnum() and path.is_file()):
        robots = sorted(p.stem for p in (ASSETS_DIR / "robots").glob("*.xml"))
        raise ValueError(f"unknown robot {name!r}; valid robots: {', '.join(robots)}")
    return path


def robot_spec(name: str) -> mujoco.MjSpec:
    """Parse the scene of robot ``name`` into a fresh, editable :class:`mujoco.MjSpec`.

    Raises:
        ValueError: if there is no ``robots/<name>.xml``.
    """
    return mujoco.MjSpec.from_file(str(robot_path(name)))


def prop_path(prop: str) -> Path:
    """Return the path of the MJCF file of ``prop``.

    Raises:
        ValueError: if ``prop`` is not one of :data:`PROPS`.
    """
    if prop not in PROPS:
        raise ValueError(f"unknown prop {prop!r}; valid props: {', '.join(PROPS)}")
    return ASSETS_DIR / "props" / f"{prop}.xml"


@cache
def _prop_template(prop: str) -> mujoco.MjSpec:
    """Parsed prop spec, kept as a template; never attach it directly (attaching moves bodies)."""
    return mujoco.MjSpec.from_file(str(prop_path(prop)))


def prop_spec(prop: str) -> mujoco.MjSpec:
    """Return an independent copy of the parsed spec of ``prop``.

    Raises:
        ValueError: if ``prop`` is not one of :data:`PROPS`.
    """
    return _prop_template(prop).copy()


def add_prop(
    spec: mujoco.MjSpec,
    prop: str,
    name: str,
    pos: Sequence[float] = (0.0, 0.0, 0.0),
    quat: Sequence[float] = (1.0, 0.0, 0.0, 0.0),
) -> mujoco.MjsBody:
    """Attach a copy of ``prop`` to ``spec.worldbody`` at ``pos``/``quat`` (w, x, y, z).

    Every element of the prop is renamed with the prefix ``f"{name}/"``: the returned body is
    ``f"{name}/{prop}"``, its site ``center`` becomes ``f"{name}/center"``, a free joint
    ``free`` becomes ``f"{name}/free"``. Instance names must therefore be unique in ``spec``.
    Existing keyframes of ``spec`` are extended with the prop's default pose on compile.

    Raises:
        ValueError: if ``prop`` is not one of :data:`PROPS`, or ``name`` is empty or already
            used as the prefix of an attached instance.
    """
    if not name:
        raise ValueError("prop instance name must not be empty")
    child = prop_spec(prop)
    prefix = f"{name}/"
    if any(body.name.startswith(prefix) for body in spec.bodies):
        raise ValueError(f"a prop instance named {name!r} already exists in the spec")
    frame = spec.worldbody.add_frame(pos=[float(v) for v in pos], quat=[float(v) for v in quat])
    spec.attach(child, prefix=prefix, frame=frame)
    body = spec.body(f"{name}/{prop}")
    if body is None:  # pragma: no cover - would mean the prop file lost its top-level body
        raise ValueError(f"prop file {prop_path(prop)} has no top-level body named {prop!r}")
    return body


__all__ = [
    "ASSETS_DIR",
    "PROPS",
    "add_prop",
    "prop_path",
    "prop_spec",
    "robot_path",
    "robot_spec",
]
