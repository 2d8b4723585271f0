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
from pathlib import Path
from typing import Any, NamedTuple

import gymnasium as gym
import jax
import jax.numpy as jnp
import mujoco
import numpy as np
from gymnasium.vector import AutoresetMode
from mujoco import mjx

from skillgym.envs.frame import Frame
from skillgym.envs.task import EpisodeState, Task
from skillgym.envs.vector import object_rows

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


def frame_of(data: mjx.Data) -> Frame:
    return Frame(
        qpos=data.qpos,
        qvel=data.qvel,
        site_xpos=data.site_xpos,
        site_xmat=jnp.reshape(data.site_xmat, data.site_xmat.shape[:-2] + (9,)),
        xpos=data.xpos,
        sensordata=data.sensordata,
        actuator_force=data.actuator_force,
    )


class MjxCore:
    """Pure reset and step of one env of a task on MJX."""

    def __init__(self, task: Task, impl: str = "jax", num_envs: int = 1) -> None:
        self.task = task
        self.model = task.build_spec().compile()
        task.bind(self.model)
        self.impl = impl
        self.mx = put_model(self.model, impl)
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

    def reset_to(self, qpos: jax.Array, qvel: jax.Array, goal: jax.Array, key: jax.Array) -> State:
        """A state at the given initial condition (also what `reset` samples)."""
        data = self.blank.replace(
            qpos=self._cast(qpos), qvel=self._cast(qvel), ctrl=self._cast(self.task.default_ctrl)
        )
        data = mjx.forward(self.mx, data)
        episode = self.task.initial_state(self._cast(goal))
        obs = self.task.observe(frame_of(data), episode)
        zero, false = jnp.zeros((), self.dtype), jnp.zeros((), bool)
        return State(
            data, episode, key, obs, zero, false, false, false, false, jnp.zeros_like(obs), episode
        )

    def reset(self, key: jax.Array) -> State:
        key, draw = jax.random.split(key)
        u = jax.random.uniform(draw, (self.task.reset_uniforms,), dtype=self.dtype)
        sample = self.task.sample_reset(u)
        return self.reset_to(sample.qpos, sample.qvel, sample.goal, key)

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
        if self.impl == "warp":
            return mjx.forward(self.mx, data)
        data = mjx.fwd_position(self.mx, data)
        data = mjx.sensor_pos(self.mx, data)
        data = mjx.fwd_velocity(self.mx, data)
        return mjx.sensor_vel(self.mx, data)

    def step(self, state: State, action: jax.Array) -> State:
        """One control step; an episode that ends is replaced by a fresh one in the same step."""
        task = self.task
        action = jnp.clip(self._cast(action), -1.0, 1.0)
        data = self.physics(state.data, task.ctrl_from_action(action))
        qpos_qvel = jnp.concatenate([data.qpos, data.qvel])
        physics_error = ~jnp.all(jnp.abs(qpos_qvel) < _STATE_LIMIT)
        frame = frame_of(data)
        result = task.advance(frame, state.episode, action)
        terminated = result.terminated & ~physics_error
        truncated = result.truncated | physics_error
        obs = jnp.where(physics_error, 0.0, task.observe(frame, result.state))
        done = terminated | truncated
        fresh = self.reset(state.key)
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
        )
        # Keep the step's outcome; swap in the fresh episode's state where this one ended.
        return stepped._replace(
            data=data.where(done, fresh.data),
            episode=_select(done, fresh.episode, result.state),
            obs=jnp.where(done, fresh.obs, obs),
        )


def _select(pred: jax.Array, on_true: Any, on_false: Any) -> Any:
    return jax.tree_util.tree_map(lambda a, b: jnp.where(pred, a, b), on_true, on_false)


class MjxVectorEnv(gym.vector.VectorEnv):
    """N envs of one task as one vmapped MJX computation.

    Arrays come back as NumPy by default; `array_type="jax"` keeps them on the device and
    `array_type="torch"` hands them to torch through DLPack, without a copy.
    """

    metadata: dict[str, Any] = {"render_modes": [], "autoreset_mode": AutoresetMode.SAME_STEP}

    def __init__(
        self,
        task: Task,
        num_envs: int = 1,
        impl: str = "jax",
        array_type: str = "numpy",
        env_id: str | None = None,
    ) -> None:
        if array_type not in ("numpy", "jax", "torch"):
            raise ValueError(f"array_type must be numpy, jax or torch, not {array_type!r}")
        self.core = MjxCore(task, impl, num_envs)
        self.task = task
        self.env_id = env_id or f"{task.robot.name}-{task.name}"
        self.model = self.core.model
        self.num_envs = num_envs
        self.frame_skip = self.core.frame_skip
        self.dt = self.model.opt.timestep * self.frame_skip
        self.array_type = array_type
        self._reset = jax.jit(jax.vmap(self.core.reset))
        self._step = jax.jit(jax.vmap(self.core.step))
        self._state: State | None = None
        self.compile_seconds: float | None = None
        self.single_action_space = gym.spaces.Box(-1.0, 1.0, (self.model.nu,), np.float32)
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

    def frame(self) -> Frame:
        return Frame(*map(np.asarray, frame_of(self._state.data)))

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
        super().reset(seed=seed)
        keys = jax.random.split(jax.random.PRNGKey(0 if seed is None else seed), self.num_envs)
        self._state = self._reset(keys)
        return self._out(self._state.obs), {}

    def compile(self) -> float:
        """Compile reset and step ahead of time; return the seconds it took."""
        start = time.perf_counter()
        keys = jax.random.split(jax.random.PRNGKey(0), self.num_envs)
        state = self._reset(keys)
        self._step(state, jnp.zeros(self.action_space.shape)).obs.block_until_ready()
        self.compile_seconds = time.perf_counter() - start
        return self.compile_seconds

    def step(self, actions: Any) -> tuple[Any, Any, Any, Any, dict]:
        if self._state is None:
            raise gym.error.ResetNeeded(f"{self.env_id}: call reset() before step()")
        if self.array_type == "torch" and hasattr(actions, "__dlpack__"):
            actions = jnp.from_dlpack(actions.detach().contiguous())  # no copy on the device
        if not isinstance(actions, jax.Array):
            actions = np.asarray(actions, dtype=np.float32)
            if actions.shape != self.action_space.shape:
                raise ValueError(
                    f"{self.env_id}: action has shape {actions.shape}, "
                    f"expected {self.action_space.shape}"
                )
            if not np.isfinite(actions).all():
                raise ValueError(
                    f"{self.env_id}: action contains NaN or inf (expected finite values of "
                    f"shape {self.action_space.shape} in [-1, 1])"
                )
        self._state = state = self._step(self._state, actions)
        done = np.asarray(state.terminated | state.truncated)
        info: dict[str, Any] = {
            "success": np.asarray(state.success),
            "physics_error": np.asarray(state.physics_error),
        }
        if done.any():
            final = EpisodeState(*map(np.asarray, state.final_episode))
            info["final_obs"] = object_rows(np.asarray(state.final_obs), done)
            info["_final_obs"] = done
            episode = self.task.episode_summary(final)
            info["final_info"] = {"episode": episode, "_episode": done}
            info["_final_info"] = done
        return (
            self._out(state.obs),
            self._out(state.reward),
            self._out(state.terminated),
            self._out(state.truncated),
            info,
        )
