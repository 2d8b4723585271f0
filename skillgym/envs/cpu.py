"""CPU physics: N copies of one model stepped together by `mujoco.batch` on a thread pool."""

from __future__ import annotations

import os

import mujoco
import numpy as np
from mujoco import batch as mj_batch

from skillgym.envs.frame import FRAME_FIELDS, Frame

# A state entry beyond this magnitude (or not finite) is a physics blow-up.
_STATE_LIMIT = 1e8


class CpuPhysics:
    """Batched native MuJoCo. Results are bit-identical whatever `num_threads` is."""

    def __init__(
        self, model: mujoco.MjModel, num_envs: int, frame_skip: int, num_threads: int | None = None
    ) -> None:
        self.model = model
        # Blow-ups are detected and reset per env here, so MuJoCo must leave the state alone.
        model.opt.disableflags |= mujoco.mjtDisableBit.mjDSBL_AUTORESET
        self.frame_skip = frame_skip
        self.num_threads = num_threads or os.cpu_count() or 1
        self.batch = mj_batch.Batch(model, num_envs, self.num_threads, persistent=True)
        self._fields = {name: self.batch.bind(name) for name in FRAME_FIELDS}
        self._ctrl = self.batch.bind("ctrl")

    @property
    def num_envs(self) -> int:
        return self.batch.nsim

    def reset(self, ids: np.ndarray, qpos: np.ndarray, qvel: np.ndarray, ctrl: np.ndarray) -> None:
        """Put envs `ids` into the given state and recompute their derived quantities."""
        self.batch.reset(ids, stage=mujoco.mjtStage.mjSTAGE_NONE)
        self._fields["qpos"][ids] = qpos
        self._fields["qvel"][ids] = qvel
        self._ctrl[ids] = ctrl
        self.batch.forward(ids)

    def step(self, ctrl: np.ndarray) -> np.ndarray:
        """Hold `ctrl` for `frame_skip` physics steps; return which envs blew up."""
        self._ctrl[:] = ctrl
        failed = np.zeros(self.num_envs, dtype=bool)
        try:
            self.batch.step(nstep=self.frame_skip, stage=mujoco.mjtStage.mjSTAGE_VEL)
        except mj_batch.SimulationError as error:
            failed[error.ids] = True
        qpos, qvel = self._fields["qpos"], self._fields["qvel"]
        bad_pos = ~(np.abs(qpos) < _STATE_LIMIT).all(axis=-1)
        bad_vel = ~(np.abs(qvel) < _STATE_LIMIT).all(axis=-1)
        return failed | bad_pos | bad_vel

    def frame(self) -> Frame:
        """Live views of the batch's arrays; valid until the next step or reset."""
        fields = self._fields
        return Frame(
            qpos=fields["qpos"],
            qvel=fields["qvel"],
            site_xpos=fields["site_xpos"],
            site_xmat=fields["site_xmat"],
            xpos=fields["xpos"],
            sensordata=fields["sensordata"],
            actuator_force=fields["actuator_force"],
        )

    def data(self, env: int, out: mujoco.MjData | None = None) -> mujoco.MjData:
        """Env `env`'s full MjData, for rendering or any mj_ function."""
        return self.batch.get_data(env, out)
