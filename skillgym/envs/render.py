"""Headless frames (`rgb_array`) through MuJoCo's Renderer, windows through its passive viewer."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import mujoco
import numpy as np

if TYPE_CHECKING:
    from skillgym.core.task import EpisodeState, Task

_MARKER_RGBA = np.array([0.1, 0.9, 0.2, 0.6], dtype=np.float32)


class Renderer:
    """Renders one env's MjData, with the task's goal markers drawn in."""

    def __init__(
        self, model: mujoco.MjModel, width: int, height: int, mode: str | None, task: Task
    ) -> None:
        self.model, self.width, self.height, self.mode, self.task = model, width, height, mode, task
        self._renderer: mujoco.Renderer | None = None
        self._viewer: Any = None
        self.data = mujoco.MjData(model)  # the env copies the rendered env's state in here
        self.camera = task.render_camera or (model.camera(0).name if model.ncam else -1)

    def render(self, state: EpisodeState | None) -> np.ndarray | None:
        """Draw `self.data`, with markers at the task's goals for episode `state`."""
        markers = self.task.markers(self.data, state) if state is not None else np.zeros((0, 3))
        if self.mode == "human":
            self._sync_viewer(markers)
            return None
        if self._renderer is None:
            # The offscreen framebuffer must hold the image; the model's default is 640x480.
            visual = self.model.vis.global_
            visual.offwidth = max(visual.offwidth, self.width)
            visual.offheight = max(visual.offheight, self.height)
            self._renderer = mujoco.Renderer(self.model, self.height, self.width)
        self._renderer.update_scene(self.data, camera=self.camera)
        _add_markers(self._renderer.scene, markers)
        return self._renderer.render()

    def _sync_viewer(self, markers: np.ndarray) -> None:
        import mujoco.viewer

        if self._viewer is None:
            self._viewer = mujoco.viewer.launch_passive(self.model, self.data)
        with self._viewer.lock():
            self._viewer.user_scn.ngeom = 0
            _add_markers(self._viewer.user_scn, markers)
        self._viewer.sync()

    def close(self) -> None:
        if self._renderer is not None:
            self._renderer.close()
            self._renderer = None
        if self._viewer is not None:
            self._viewer.close()
            self._viewer = None


def _add_markers(scene: mujoco.MjvScene, positions: np.ndarray) -> None:
    for pos in positions:
        if scene.ngeom >= scene.maxgeom:
            return
        mujoco.mjv_initGeom(
            scene.geoms[scene.ngeom],
            mujoco.mjtGeom.mjGEOM_SPHERE,
            np.array([0.03, 0.0, 0.0]),
            np.asarray(pos, dtype=np.float64),
            np.eye(3).ravel(),
            _MARKER_RGBA,
        )
        scene.ngeom += 1


def write_video(path: str | Path, frames: list[np.ndarray], fps: float) -> Path:
    """Write RGB frames to an MP4 (H.264 through imageio's ffmpeg)."""
    import imageio.v2 as imageio

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    imageio.mimwrite(path, frames, fps=fps, macro_block_size=1)
    return path
