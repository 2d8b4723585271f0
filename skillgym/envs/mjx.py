"""GPU-vectorized physics: the same tasks on MuJoCo XLA (MJX).

`MjxCore` is the functional core, in the style of Brax and MuJoCo Playground: `reset(key)` and
`step(state, action)` are pure functions of one env, `jax.jit`/`jax.vmap`-able, with physics
substeps in `lax.scan`, auto-reset inside the step and episode bookkeeping on the device. The
task functions are the ones the CPU backend evaluates with NumPy, here evaluated with jax.numpy.
`MjxVectorEnv` puts a Gymnasium `VectorEnv` over a vmapped core.
"""

from __future__ import annotations

import copy
import os
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, NamedTuple

import gymnasium as gym
import jax
import jax.numpy as jnp
import mujoco
import numpy as np
from gymnasium.vector import AutoresetMode
from mujoco import mjx

from skillgym.core.snapshot import Snapshot
from skillgym.core.task import EpisodeState, Task
from skillgym.envs.actions import check_action
from skillgym.envs.model import compile_task, sample_start, start_uniforms
from skillgym.envs.vector import EPISODE_KEY, autoreset_mode_of, object_rows, reset_ids

IMPLS = ("jax", "warp")
_STATE_LIMIT = 1e8


def enable_compilation_cache(path: str | os.PathLike | None = None) -> Path:
    """Turn on JAX's persistent compilation cache (on by default; `SKILLGYM_JAX_CACHE` moves it)."""
    default = Path.home() / ".cache" / "skillgym" / "jax"
    cache = Path(path or os.environ.get("SKILLGYM_JAX_CACHE") or default).expanduser()
    cache.mkdir(parents=True, exist_ok=True)
    jax.config.update("jax_compilation_cache_dir", str(cache))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 1.0)
    return cache


enable_compilation_cache()


def device_jit(fn: Callable) -> Callable:
    """`jax.jit` for MJX code. On JAX's CPU backend it compiles without XLA's newer CPU fusion
    emitters: they fuse MJX's chains of small quaternion and matrix products into kernels that
    recompute their inputs per element, which makes a batched arm env step ~30x slower."""
    if jax.default_backend() == "cpu":
        return jax.jit(fn, compiler_options={"xla_cpu_use_fusion_emitters": False})
    return jax.jit(fn)


class State(NamedTuple):
    """One env's state on the device (a pytree; batched by vmap)."""

    data: mjx.Data
    episode: EpisodeState
    key: jax.Array
    obs: jax.Array
    reward: jax.Array
    terminated: jax.Array
    truncated: jax.Array
    success: jax.Array
    physics_error: jax.Array
    final_obs: jax.Array  # the finished episode's last observation, where it just ended
    final_episode: EpisodeState  # the finished episode's bookkeeping, likewise
    privilege_scale: jax.Array  # (n_privileges,) acting in this episode; empty without them
    next_privilege_scale: jax.Array  # what the next episode takes


def put_model(model: mujoco.MjModel, impl: str) -> mjx.Model:
    """The model on the device, with a clear error for what MJX cannot run."""
    if impl not in IMPLS:
        raise ValueError(f"impl must be one of {IMPLS}, not {impl!r}")
    if impl == "warp" and not any(d.platform == "gpu" for d in jax.devices()):
        raise RuntimeError(
            "impl='warp' runs MuJoCo Warp, which needs a CUDA GPU; JAX sees only "
            f"{[d.platform for d in jax.devices()]}. Use impl='jax' or backend='cpu'."
        )
    if jax.default_backend() == "cpu" and model.opt.solver == mujoco.mjtSolver.mjSOL_NEWTON:
        # jaxlib's batched Cholesky (what Newton's solver needs under vmap) can deadlock its own
        # thread pool on small CPUs; conjugate gradient needs no factorization.
        model = copy.copy(model)
        model.opt.solver = mujoco.mjtSolver.mjSOL_CG
    try:
        return mjx.put_model(model, impl=impl)
    except NotImplementedError as error:
        raise NotImplementedError(f"MJX ({impl}) cannot run this scene: {error}") from error


def snapshot_of(data: mjx.Data) -> Snapshot:
    return Snapshot(
        qpos=data.qpos,
        qvel=data.qvel,
        site_xpos=data.site_xpos,
        site_xmat=jnp.reshape(data.site_xmat, data.site_xmat.shape[:-2] + (9,)),
        xpos=data.xpos,
        sensordata=data.sensordata,
        actuator_force=data.actuator_force,
    )


class MjxCore:
    """Pure reset and step of one env of a task on MJX; with `privileged=True`, of its training
    variant, whose action carries the privileges' channels after the robot's."""

    def __init__(
        self, task: Task, impl: str = "jax", num_envs: int = 1, privileged: bool = False
    ) -> None:
        self.task = task
        self.model, self.privileges = compile_task(task, privileged)
        self.impl = impl
        self.mx = put_model(self.model, impl)
        self.initial_privilege_scale = (
            np.zeros(0) if self.privileges is None else self.privileges.scales_at(0)
        )
        self.frame_skip = task.robot.frame_skip
        if impl == "warp":
            # MuJoCo Warp allocates contacts for all envs together and constraint rows per env.
            self.blank = mjx.make_data(
                self.model,
                impl="warp",
                naconmax=task.max_contacts * num_envs,
                njmax=task.max_constraints,
            )
        else:
            self.blank = mjx.make_data(self.mx)
        self.dtype = self.blank.qpos.dtype

    def _cast(self, x: Any) -> jax.Array:
        return jnp.asarray(x, dtype=self.dtype)

    def reset_to(
        self,
        qpos: jax.Array,
        qvel: jax.Array,
        goal: jax.Array,
        key: jax.Array,
        privilege_scale: jax.Array | None = None,
        memory: jax.Array | None = None,
    ) -> State:
        """A state at the given initial condition (also what `reset` samples); privileges, if
        any, at `privilege_scale`, by default at curriculum level 0; the task's memory from
        `memory` (zeros if None)."""
        if privilege_scale is None:
            privilege_scale = self.initial_privilege_scale
        privilege_scale = self._cast(privilege_scale)
        data = self.blank.replace(
            qpos=self._cast(qpos), qvel=self._cast(qvel), ctrl=self._cast(self.task.default_ctrl)
        )
        if self.privileges is not None:
            data = data.replace(mocap_pos=self._cast(self.privileges.mocap_pos(privilege_scale)))
        data = mjx.forward(self.mx, data)
        memory = None if memory is None else self._cast(memory)
        episode = self.task.initial_state(self._cast(goal), memory)
        obs = self.task.observe(snapshot_of(data), episode)
        zero, false = jnp.zeros((), self.dtype), jnp.zeros((), bool)
        return State(
            data,
            episode,
            key,
            obs,
            zero,
            false,
            false,
            false,
            false,
            jnp.zeros_like(obs),
            episode,
            privilege_scale,
            privilege_scale,
        )

    def reset(self, key: jax.Array, privilege_scale: jax.Array | None = None) -> State:
        key, draw = jax.random.split(key)
        size = (start_uniforms(self.task, self.privileges),)
        u = jax.random.uniform(draw, size, dtype=self.dtype)
        if privilege_scale is None:
            privilege_scale = self.initial_privilege_scale
        privilege_scale = self._cast(privilege_scale)
        sample = sample_start(self.task, self.privileges, u, privilege_scale)
        return self.reset_to(
            sample.qpos, sample.qvel, sample.goal, key, privilege_scale, sample.memory
        )

    def physics(self, data: mjx.Data, ctrl: jax.Array) -> mjx.Data:
        """`frame_skip` physics steps holding `ctrl`."""
        data = data.replace(ctrl=ctrl)

        def substep(d: mjx.Data, _: None) -> tuple[mjx.Data, None]:
            return mjx.step(self.mx, d), None

        data = jax.lax.scan(substep, data, None, length=self.frame_skip)[0]
        return self.refresh(data)

    def refresh(self, data: mjx.Data) -> mjx.Data:
        """Positions, velocities and their sensors at the new state, as the CPU backend computes
        them after a step (`mj_step` leaves derived quantities one substep behind)."""
        model = self.mx
        if self.impl == "warp":
            return mjx.forward(model, data)
        data = mjx.fwd_position(model, data)
        data = mjx.sensor_pos(model, data)
        data = mjx.fwd_velocity(model, data)
        return mjx.sensor_vel(model, data)

    def step(self, state: State, action: jax.Array, hold: jax.Array | None = None) -> State:
        """One control step; an episode that ends is replaced by a fresh one in the same step.
        Where `hold` is set the env does not step: it keeps its state, with reward 0 and no
        episode end (NEXT_STEP autoreset, on the step after an episode ended)."""
        task = self.task
        action = jnp.clip(self._cast(action), -1.0, 1.0)
        robot_action = task.applied_action(action[..., : self.model.nu], state.episode)
        data = state.data
        if self.privileges is not None:
            channels = action[..., self.model.nu :]
            wrench = self.privileges.wrench(snapshot_of(data), channels, state.privilege_scale)
            data = data.replace(xfrc_applied=self._cast(wrench))
        data = self.physics(data, task.ctrl_from_action(robot_action))
        qpos_qvel = jnp.concatenate([data.qpos, data.qvel])
        physics_error = ~jnp.all(jnp.abs(qpos_qvel) < _STATE_LIMIT)
        snap = snapshot_of(data)
        result = task.advance(snap, state.episode, robot_action)
        # A blown-up step counts for nothing: the episode ends as it stood before that step,
        # and, like a fall, it is no success.
        before = state.episode._replace(success_once=jnp.zeros_like(state.episode.success_once))
        result = result._replace(
            state=_select(physics_error, before, result.state),
            success=result.success & ~physics_error,
        )
        terminated = result.terminated & ~physics_error
        truncated = result.truncated | physics_error
        obs = jnp.where(physics_error, 0.0, task.observe(snap, result.state))
        done = terminated | truncated
        fresh = self.reset(state.key, state.next_privilege_scale)
        stepped = State(
            data=data,
            episode=result.state,
            key=fresh.key,
            obs=obs,
            reward=jnp.where(physics_error, 0.0, result.reward),
            terminated=terminated,
            truncated=truncated,
            success=result.success,
            physics_error=physics_error,
            final_obs=obs,
            final_episode=result.state,
            privilege_scale=state.privilege_scale,
            next_privilege_scale=state.next_privilege_scale,
        )
        # Keep the step's outcome; swap in the fresh episode's state where this one ended.
        stepped = stepped._replace(
            data=data.where(done, fresh.data),
            episode=_select(done, fresh.episode, result.state),
            obs=jnp.where(done, fresh.obs, obs),
            privilege_scale=jnp.where(done, fresh.privilege_scale, state.privilege_scale),
        )
        if hold is None:
            return stepped
        no = jnp.zeros_like(terminated)
        held = state._replace(
            reward=jnp.zeros_like(stepped.reward),
            terminated=no,
            truncated=no,
            success=no,
            physics_error=no,
        )
        return _select(hold, held, stepped)


_BATCHED: dict[tuple, tuple[MjxCore, Callable, Callable]] = {}


def batched_core(
    task: Task, impl: str, num_envs: int, privileged: bool
) -> tuple[MjxCore, Callable, Callable]:
    """A task's core with its jitted, vmapped reset and step, made once per process for each
    kind of env: a second env of the same task, config, impl, batch size and privileges (an
    evaluation env beside a training env) reuses the traces instead of tracing MJX again."""
    key = (type(task), repr(task.robot), repr(task.config), impl, num_envs, privileged)
    if key not in _BATCHED:
        core = MjxCore(task, impl, num_envs, privileged)
        _BATCHED[key] = (core, device_jit(jax.vmap(core.reset)), device_jit(jax.vmap(core.step)))
    return _BATCHED[key]


def _select(pred: jax.Array, on_true: Any, on_false: Any) -> Any:
    return jax.tree_util.tree_map(lambda a, b: jnp.where(pred, a, b), on_true, on_false)


class MjxVectorEnv(gym.vector.VectorEnv):
    """N envs of one task as one vmapped MJX computation.

    Arrays come back as NumPy by default; `array_type="jax"` keeps them on the device and
    `array_type="torch"` hands them to torch through DLPack, without a copy. `privileged=True`
    makes the training variant, as `SkillVectorEnv` does, and `autoreset_mode` works as there
    (on the device an ended env's next episode is drawn on the step it ended; NEXT_STEP holds
    it there for a step, DISABLED until `reset(options={"reset_mask": mask})`).
    """

    metadata: dict[str, Any] = {"render_modes": []}

    def __init__(
        self,
        task: Task,
        num_envs: int = 1,
        impl: str = "jax",
        array_type: str = "numpy",
        env_id: str | None = None,
        privileged: bool = False,
        autoreset_mode: AutoresetMode | str = AutoresetMode.NEXT_STEP,
        randomize: Any = None,
    ) -> None:
        if randomize is not None:
            raise ValueError(
                "domain randomization runs on the CPU backend (backend='cpu'); the MJX backend "
                "does not randomize yet"
            )
        self.autoreset_mode = autoreset_mode_of(autoreset_mode)
        self.metadata = {**self.metadata, "autoreset_mode": self.autoreset_mode}
        if array_type not in ("numpy", "jax", "torch"):
            raise ValueError(f"array_type must be numpy, jax or torch, not {array_type!r}")
        self.core, self._reset, self._step = batched_core(task, impl, num_envs, privileged)
        self.privileges = self.core.privileges
        self.task = self.core.task
        self.env_id = env_id or f"{task.robot.name}-{task.name}"
        self.model = self.core.model
        self.num_envs = num_envs
        self.frame_skip = self.core.frame_skip
        self.dt = self.model.opt.timestep * self.frame_skip
        self.array_type = array_type
        self._state: State | None = None
        self._held = np.zeros(num_envs, dtype=bool)  # ended envs that do not step yet
        self.compile_seconds: float | None = None
        # The privilege scales each env takes at its next reset (see `set_privilege_scales`).
        self._next_privilege_scale = np.tile(self.core.initial_privilege_scale, (num_envs, 1))
        action_size = self.model.nu + (self.privileges.action_size if self.privileges else 0)
        self.single_action_space = gym.spaces.Box(-1.0, 1.0, (action_size,), np.float32)
        self.action_space = gym.vector.utils.batch_space(self.single_action_space, num_envs)
        obs_size = jax.eval_shape(self.core.reset, jax.random.PRNGKey(0)).obs.shape[-1]
        self.single_observation_space = gym.spaces.Box(-np.inf, np.inf, (obs_size,), np.float32)
        self.observation_space = gym.vector.utils.batch_space(
            self.single_observation_space, num_envs
        )

    @property
    def state(self) -> State | None:
        """The device state of every env."""
        return self._state

    @property
    def episode_state(self) -> EpisodeState | None:
        return None if self._state is None else EpisodeState(*map(np.asarray, self._state.episode))

    def snapshot(self) -> Snapshot:
        return Snapshot(*map(np.asarray, snapshot_of(self._state.data)))

    @property
    def privilege_scales(self) -> dict[str, np.ndarray]:
        """The scale of every privilege acting in each env, name -> (num_envs,)."""
        if self.privileges is None:
            return {}
        if self._state is None:
            scales = self._next_privilege_scale
        else:
            scales = np.asarray(self._state.privilege_scale)
        return {name: scales[:, i].copy() for i, name in enumerate(self.privileges.names)}

    def set_privilege_scales(self, scales: Mapping[str, Any]) -> None:
        """Set privileges' scales (name -> a scalar or one per env). Envs at the start of an
        episode take them now, the others at their next reset, as on the CPU backend."""
        if self.privileges is None:
            raise ValueError(f"{self.env_id} has no privileges; make it with privileged=True")
        self._next_privilege_scale = self.privileges.merged(scales, self._next_privilege_scale)
        if self._state is not None:
            state = self._state
            target = jnp.asarray(self._next_privilege_scale, state.privilege_scale.dtype)
            starting = (state.episode.steps == 0)[:, None]
            self._state = state._replace(
                privilege_scale=jnp.where(starting, target, state.privilege_scale),
                next_privilege_scale=target,
            )

    def _out(self, x: jax.Array) -> Any:
        if self.array_type == "jax":
            return x
        if self.array_type == "torch":
            import torch

            return torch.from_dlpack(x)
        return np.asarray(x)

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[Any, dict[str, Any]]:
        """Reset every env, or those of `options["reset_mask"]` (the others carry on)."""
        super().reset(seed=seed)
        ids = reset_ids(self, options, started=self._state is not None)
        if seed is None and len(ids) < self.num_envs:
            keys = self._state.key  # a masked reset carries on each env's own random stream
        else:
            keys = jax.random.split(jax.random.PRNGKey(0 if seed is None else seed), self.num_envs)
        fresh = self._reset(keys, self._next_privilege_scale)
        if len(ids) < self.num_envs:
            mask = np.zeros(self.num_envs, dtype=bool)
            mask[ids] = True
            fresh = jax.tree_util.tree_map(
                lambda new, old: jnp.where(mask.reshape((-1,) + (1,) * (new.ndim - 1)), new, old),
                fresh,
                self._state,
            )
        self._state = fresh
        self._held[ids] = False
        return self._out(self._state.obs), {}

    def compile(self) -> float:
        """Compile reset and step ahead of time; return the seconds it took."""
        start = time.perf_counter()
        keys = jax.random.split(jax.random.PRNGKey(0), self.num_envs)
        state = self._reset(keys, self._next_privilege_scale)
        hold = jnp.zeros(self.num_envs, dtype=bool)
        self._step(state, jnp.zeros(self.action_space.shape), hold).obs.block_until_ready()
        self.compile_seconds = time.perf_counter() - start
        return self.compile_seconds

    def step(self, actions: Any) -> tuple[Any, Any, Any, Any, dict]:
        if self._state is None:
            raise gym.error.ResetNeeded(f"{self.env_id}: call reset() before step()")
        if self.array_type == "torch":
            import torch

            if isinstance(actions, torch.Tensor):  # no copy on the device
                actions = jnp.from_dlpack(actions.detach().contiguous())
        xp = jnp if isinstance(actions, jax.Array) else np
        actions = check_action(actions, self.action_space.shape, self.env_id, xp, np.float32)
        self._state = state = self._step(self._state, actions, jnp.asarray(self._held))
        done = np.asarray(state.terminated | state.truncated)
        info: dict[str, Any] = {
            "success": np.asarray(state.success),
            "physics_error": np.asarray(state.physics_error),
        }
        obs = state.obs
        if done.any():
            final = EpisodeState(*map(np.asarray, state.final_episode))
            record = {EPISODE_KEY: self.task.episode_summary(final), f"_{EPISODE_KEY}": done}
            if self.autoreset_mode is AutoresetMode.SAME_STEP:
                info["final_obs"] = object_rows(np.asarray(state.final_obs), done)
                info["_final_obs"] = done
                info["final_info"] = record
                info["_final_info"] = done
            else:  # the ended envs show their last observation; their next episode waits
                info.update(record)
                obs = jnp.where(jnp.asarray(done)[:, None], state.final_obs, state.obs)
        if self.autoreset_mode is AutoresetMode.NEXT_STEP:
            self._held = done
        elif self.autoreset_mode is AutoresetMode.DISABLED:
            self._held |= done
        return (
            self._out(obs),
            self._out(state.reward),
            self._out(state.terminated),
            self._out(state.truncated),
            info,
        )
