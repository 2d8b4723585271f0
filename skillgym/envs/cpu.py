"""CPU physics: N copies of one model stepped together by `mujoco.batch` on a thread pool."""

from __future__ import annotations

import os

import mujoco
import numpy as np
from mujoco import batch as mj_batch

from skillgym.core.snapshot import SNAPSHOT_FIELDS, Snapshot

# A state entry beyond this magnitude (or not finite) is a physics blow-up.
_STATE_LIMIT = 1e8


class CpuPhysics:
    """Batched native MuJoCo. Results are bit-identical whatever `num_threads` is.

    State fields (qpos, qvel, ctrl) are views of the batch's state rows; derived fields
    (site poses, sensors, actuator forces) are refreshed by every step, reset and forward.
    """

    def __init__(
        self, model: mujoco.MjModel, num_envs: int, frame_skip: int, num_threads: int | None = None
    ) -> None:
        self.model = model
        # Blow-ups are detected and reset per env here, so MuJoCo must leave the state alone.
        model.opt.disableflags |= mujoco.mjtDisableBit.mjDSBL_AUTORESET
        self.frame_skip = frame_skip
        self.num_threads = num_threads or os.cpu_count() or 1
        # Not persistent: one MjData per thread, not per env, keeps memory and cache misses low.
        self.batch = mj_batch.Batch(model, num_envs, self.num_threads, persistent=False)
        self._fields = {name: self.batch.bind(name) for name in SNAPSHOT_FIELDS}
        self._ctrl = self.batch.bind("ctrl")
        self._mocap_pos = self.batch.bind("mocap_pos")
        self.batch.reset()
        self._initial_state = self.batch.state[0].copy()  # the model's defaults, as one row
        # qpos and qvel lie side by side in a state row: one slice checks both for blow-ups.
        start = self.batch._component(mujoco.mjtState.mjSTATE_QPOS)[0]  # noqa: SLF001
        self._positions_and_velocities = self.batch.state[:, start : start + model.nq + model.nv]

    @property
    def num_envs(self) -> int:
        return self.batch.nsim

    def reset(self, ids: np.ndarray, qpos: np.ndarray, qvel: np.ndarray, ctrl: np.ndarray) -> None:
        """Put envs `ids` into the given state and recompute their derived quantities. Mocap
        bodies stay where `set_mocap_pos` put them."""
        mocap_pos = self._mocap_pos[ids]  # a copy: fancy indexing
        self.batch.state[ids] = self._initial_state
        self._mocap_pos[ids] = mocap_pos
        self._fields["qpos"][ids] = qpos
        self._fields["qvel"][ids] = qvel
        self._ctrl[ids] = ctrl
        self.batch.forward(ids)

    def save(self, ids: np.ndarray) -> np.ndarray:
        """A copy of envs `ids`' simulation state, for `restore`."""
        return self.batch.state[ids].copy()

    def restore(self, ids: np.ndarray, saved: np.ndarray) -> None:
        """Put envs `ids` back into a state `save` took, derived quantities included."""
        self.batch.state[ids] = saved
        self.batch.forward(ids)

    def set_mocap_pos(self, ids: np.ndarray, mocap_pos: np.ndarray) -> None:
        """Move envs `ids`' mocap bodies, (len(ids), nmocap, 3); felt from the next step."""
        self._mocap_pos[ids] = mocap_pos

    def step(self, ctrl: np.ndarray, xfrc_applied: np.ndarray | None = None) -> np.ndarray:
        """Hold `ctrl` (and body wrenches, where given) for `frame_skip` physics steps; return
        which envs blew up."""
        self._ctrl[:] = ctrl
        if xfrc_applied is not None:
            self.batch.bind("xfrc_applied")[:] = xfrc_applied
        failed = np.zeros(self.num_envs, dtype=bool)
        try:
            self.batch.step(nstep=self.frame_skip, stage=mujoco.mjtStage.mjSTAGE_VEL)
        except mj_batch.SimulationError as error:
            failed[error.ids] = True
        failed |= ~(np.abs(self._positions_and_velocities) < _STATE_LIMIT).all(axis=-1)
        if failed.any():  # clear everything the blow-up left in those envs' MjData
            self.batch.reset(np.flatnonzero(failed), stage=mujoco.mjtStage.mjSTAGE_NONE)
        return failed

    def snapshot(self) -> Snapshot:
        """Live views of the batch's arrays; valid until the next step or reset."""
        fields = self._fields
        return Snapshot(
            qpos=fields["qpos"],
            qvel=fields["qvel"],
            site_xpos=fields["site_xpos"],
            site_xmat=fields["site_xmat"],
            xpos=fields["xpos"],
            sensordata=fields["sensordata"],
            actuator_force=fields["actuator_force"],
        )

    def data(self, env: int, out: mujoco.MjData | None = None) -> mujoco.MjData:
        """Env `env`'s MjData with derived quantities, for rendering or any mj_ function."""
        data = self.batch.get_data(env, out)
        mujoco.mj_forward(self.model, data)
        return data
