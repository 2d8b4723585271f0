"""Gymnasium environments over a task: the batched `SkillVectorEnv` and the single `SkillEnv`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import gymnasium as gym
import mujoco
import numpy as np
from gymnasium.vector import AutoresetMode

from skillgym.core.randomization import Randomization, randomization
from skillgym.core.snapshot import Snapshot
from skillgym.core.task import EpisodeState, StepResult, Task
from skillgym.envs.actions import check_action
from skillgym.envs.cpu import CpuPhysics
from skillgym.envs.model import compile_task, sample_start, start_uniforms
from skillgym.envs.randomize import CpuRandomizer
from skillgym.envs.render import Renderer

OBS_MODES = ("flat", "dict")
# The info key of a finished episode's record (`Task.episode_summary`); "episode" belongs to
# Gymnasium's and Stable-Baselines3's episode statistics wrappers.
EPISODE_KEY = "episode_summary"


def autoreset_mode_of(mode: AutoresetMode | str) -> AutoresetMode:
    """An AutoresetMode given as itself, its value ("NextStep") or its name ("next_step")."""
    if isinstance(mode, AutoresetMode):
        return mode
    key = str(mode).lower().replace("_", "")
    for candidate in AutoresetMode:
        if key in (candidate.value.lower(), candidate.name.lower().replace("_", "")):
            return candidate
    modes = ", ".join(candidate.value for candidate in AutoresetMode)
    raise ValueError(f"autoreset_mode must be one of {modes}, not {mode!r}")


def finished_episodes(info: Mapping[str, Any], num_envs: int) -> tuple[dict[str, Any], Any]:
    """The records of the episodes that ended at a step (name -> (num_envs,)) and which envs
    they are, from a vector env's step info in any autoreset mode, or a single env's info."""
    info = info.get("final_info", info)
    episode = info.get(EPISODE_KEY)
    if episode is None:
        return {}, np.zeros(num_envs, dtype=bool)
    done = np.atleast_1d(info.get(f"_{EPISODE_KEY}", np.ones(num_envs, dtype=bool)))
    records = {k: np.atleast_1d(v) for k, v in episode.items() if not k.startswith("_")}
    return records, done


def reset_ids(
    env: gym.vector.VectorEnv, options: dict[str, Any] | None, started: bool
) -> np.ndarray:
    """The envs a `reset(options=...)` resets: every env, or those of `options["reset_mask"]`,
    which only an env `started` by a full reset takes."""
    mask = (options or {}).get("reset_mask")
    if mask is None:
        return np.arange(env.num_envs)
    mask = np.asarray(mask)
    if mask.shape != (env.num_envs,) or mask.dtype != bool:
        raise ValueError(
            f"reset_mask must be a bool array of shape ({env.num_envs},), not {mask!r}"
        )
    if not started and not mask.all():
        raise gym.error.ResetNeeded(f"{env.env_id}: reset every env before a masked reset")
    return np.flatnonzero(mask)


def _stack_state(states: EpisodeState) -> EpisodeState:
    return EpisodeState(*(np.asarray(x) for x in states))


class SkillVectorEnv(gym.vector.VectorEnv):
    """N envs of one task stepped as one batch on native MuJoCo.

    Episodes that end are reset as Gymnasium's `autoreset_mode` says:

    * NEXT_STEP (default, what Gymnasium's vector wrappers expect): the step on which an
      episode ends returns its last observation, with its record in `info["episode_summary"]`;
      the next step resets that env, ignores its action, and returns the new episode's first
      observation with reward 0 and neither terminated nor truncated.
    * SAME_STEP (what Stable-Baselines3 and this package's trainers use): the ending step
      returns the new episode's first observation; `info["final_obs"]` and `info["final_info"]`
      (the record under `"episode_summary"`) hold the finished episode's, masked by
      `info["_final_obs"]`.
    * DISABLED: ended envs wait for `reset(options={"reset_mask": mask})`.

    With `privileged=True` it is the training variant: the task's privileges act, and the
    action is wider, the robot's `model.nu` entries first, then the privileges' channels (see
    `skillgym.core.privileges`). Their scales start at curriculum level 0.
    """

    metadata: dict[str, Any] = {
        "render_modes": ["rgb_array", "human"],
        "autoreset_mode": AutoresetMode.SAME_STEP,
    }

    def __init__(
        self,
        task: Task,
        num_envs: int = 1,
        num_threads: int | None = None,
        obs_mode: str = "flat",
        render_mode: str | None = None,
        width: int = 320,
        height: int = 240,
        env_id: str | None = None,
        privileged: bool = False,
        autoreset_mode: AutoresetMode | str = AutoresetMode.NEXT_STEP,
        randomize: str | Randomization | None = None,
    ) -> None:
        self.autoreset_mode = autoreset_mode_of(autoreset_mode)
        self.randomization = randomization(randomize)
        if obs_mode not in OBS_MODES:
            raise ValueError(f"obs_mode must be one of {OBS_MODES}, not {obs_mode!r}")
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(f"render_mode must be one of {self.metadata['render_modes']}")
        if num_envs < 1:
            raise ValueError(f"num_envs must be at least 1, not {num_envs}")
        self.task = task
        self.env_id = env_id or f"{task.robot.name}-{task.name}"
        self.model, self.privileges = compile_task(task, privileged)
        self.num_envs = num_envs
        self.frame_skip = task.robot.frame_skip
        self.dt = self.model.opt.timestep * self.frame_skip
        self.metadata = {
            **self.metadata,
            "render_fps": round(1.0 / self.dt),
            "autoreset_mode": self.autoreset_mode,
        }
        self.obs_mode = obs_mode
        self.render_mode = render_mode
        self.physics = CpuPhysics(self.model, num_envs, self.frame_skip, num_threads)
        self._renderer = Renderer(self.model, width, height, render_mode, task)
        self._rng = np.random.default_rng()
        self._state: EpisodeState | None = None
        self._waiting = np.zeros(num_envs, dtype=bool)  # ended, and not stepping (see `step`)
        # Privilege scales per env: those acting now, and those each env takes at its next reset.
        start = self.privileges.scales_at(0) if self.privileges is not None else np.zeros(0)
        self._next_privilege_scale = np.tile(start, (num_envs, 1))
        self._privilege_scale = self._next_privilege_scale.copy()
        action_size = self.model.nu + (self.privileges.action_size if self.privileges else 0)

        self.single_action_space = gym.spaces.Box(-1.0, 1.0, (action_size,), np.float32)
        self.action_space = gym.vector.utils.batch_space(self.single_action_space, num_envs)
        self.single_observation_space = self._observation_space()
        self.observation_space = gym.vector.utils.batch_space(
            self.single_observation_space, num_envs
        )
        self._randomizer = None
        if self.randomization is not None:
            self._randomizer = CpuRandomizer(
                self.randomization, self.physics, self.observation_layout, self.task
            )

    def set_autoreset_mode(self, mode: AutoresetMode | str) -> None:
        """Reset ended episodes as `mode` says from now on (see the class docstring)."""
        self.autoreset_mode = autoreset_mode_of(mode)
        self.metadata = {**self.metadata, "autoreset_mode": self.autoreset_mode}

    # ---- spaces and observations -------------------------------------------------------------

    def _observation_space(self) -> gym.Space:
        u = np.full((1, self.task.reset_uniforms), 0.5)
        sample = self.task.sample_reset(u)
        self.physics.reset(np.array([0]), sample.qpos, sample.qvel, self.task.default_ctrl)
        snap = _first(self.physics.snapshot())
        state = self.task.initial_state(sample.goal[0], sample.memory[0])
        self.observation_layout = self.task.observation_layout(snap, state)
        sizes = {
            "observation": self.task.observe(snap, state).shape[-1],
            "goal": self.task.goal_size,
            "critic": self.task.critic_observation(snap, state).shape[-1],
        }

        def box(size: int) -> gym.spaces.Box:
            return gym.spaces.Box(-np.inf, np.inf, (size,), np.float32)

        if self.obs_mode == "flat":
            return box(sizes["observation"])
        return gym.spaces.Dict({key: box(size) for key, size in sizes.items()})

    def _observe(
        self, state: EpisodeState, ids: np.ndarray | None = None
    ) -> np.ndarray | dict[str, np.ndarray]:
        """Observations of all envs, or of envs `ids` only."""
        snap = self.physics.snapshot()
        if ids is not None:
            snap = Snapshot(*(x[ids] for x in snap))
            state = EpisodeState(*(np.asarray(x)[ids] for x in state))
        obs = np.asarray(self.task.observe(snap, state), dtype=np.float32)
        if self._randomizer is not None:
            obs = self._randomizer.observe(obs, self._rng)
        if self.obs_mode == "flat":
            return obs
        return {
            "observation": obs,
            "goal": np.asarray(state.goal, dtype=np.float32),
            "critic": np.asarray(self.task.critic_observation(snap, state), dtype=np.float32),
        }

    # ---- reset and step ------------------------------------------------------------------------

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[Any, dict[str, Any]]:
        """Reset every env, or those of `options["reset_mask"]` (the others carry on)."""
        super().reset(seed=seed)
        ids = reset_ids(self, options, started=self._state is not None)
        if seed is not None:
            self._rng = np.random.default_rng(seed)
        self._state = self._reset_envs(ids, self._state)
        self._waiting[ids] = False
        return self._observe(self._state), {}

    def _reset_envs(self, ids: np.ndarray, state: EpisodeState | None) -> EpisodeState:
        """Reset envs `ids` with fresh samples; return the whole batch's episode state."""
        if self.privileges is not None:
            self._take_privilege_scales(ids)
        if self._randomizer is not None:
            self._randomizer.resample(ids, self._rng)
        u = self._rng.random((len(ids), start_uniforms(self.task, self.privileges)))
        sample = sample_start(self.task, self.privileges, u, self._privilege_scale[ids])
        self.physics.reset(ids, sample.qpos, sample.qvel, self.task.default_ctrl)
        fresh = self.task.initial_state(np.asarray(sample.goal), np.asarray(sample.memory))
        if state is None:
            return fresh
        return EpisodeState(*(_put(old, ids, new) for old, new in zip(state, fresh, strict=True)))

    def step_batch(self, actions: Any) -> tuple[StepResult, np.ndarray]:
        """One control step of every env, without auto-reset; also says which blew up."""
        if self._state is None:
            raise gym.error.ResetNeeded(f"{self.env_id}: call reset() before step()")
        action = check_action(actions, self.action_space.shape, self.env_id)
        robot_action = action[:, : self.model.nu]
        if self._randomizer is not None:
            robot_action = self._randomizer.delay(robot_action)
            self._randomizer.push(self.dt, self._rng)
        robot_action = self.task.applied_action(robot_action, self._state)
        wrench = None
        if self.privileges is not None:
            channels = action[:, self.model.nu :]
            wrench = self.privileges.wrench(
                self.physics.snapshot(), channels, self._privilege_scale
            )
        physics_error = self.physics.step(self.task.ctrl_from_action(robot_action), wrench)
        result = self.task.advance(self.physics.snapshot(), self._state, robot_action)
        state = _stack_state(result.state)
        # A blown-up env's frame is the model's reset state: its step counts for nothing, its
        # episode ends as it stood before that step, and, like a fall, it is no success.
        if physics_error.any():
            ids = np.flatnonzero(physics_error)
            kept = (old[ids] for old in self._state)
            state = EpisodeState(
                *(_put(new, ids, old) for new, old in zip(state, kept, strict=True))
            )
            state = state._replace(success_once=state.success_once & ~physics_error)
        result = StepResult(
            state,
            np.where(physics_error, 0.0, np.asarray(result.reward, dtype=np.float64)),
            np.asarray(result.terminated) & ~physics_error,
            np.asarray(result.truncated) | physics_error,
            np.asarray(result.success) & ~physics_error,
        )
        self._state = result.state
        return result, physics_error

    def step(self, actions: Any) -> tuple[Any, np.ndarray, np.ndarray, np.ndarray, dict]:
        # Envs whose episode ended and that do not step now: NEXT_STEP resets them at this
        # step, DISABLED keeps them as they ended until a masked reset.
        waiting = np.flatnonzero(self._waiting)
        kept = None
        if len(waiting) and self.autoreset_mode is AutoresetMode.DISABLED:
            kept = (self.physics.save(waiting), self._state)
        result, physics_error = self.step_batch(actions)
        if len(waiting):
            result, physics_error = self._hold(waiting, kept, result, physics_error)
        done = result.terminated | result.truncated
        info = {"success": result.success, "physics_error": physics_error}
        obs = self._observe(result.state)
        if physics_error.any():  # a blown-up state is no observation
            obs = _zero_where(obs, physics_error)
        if done.any():
            record = _with_masks({EPISODE_KEY: self.task.episode_summary(result.state)}, done)
            if self.autoreset_mode is AutoresetMode.SAME_STEP:
                info["final_obs"] = object_rows(obs, done)
                info["_final_obs"] = done
                info["final_info"] = {**_with_masks(info, done), **record}
                info["_final_info"] = done
                ids = np.flatnonzero(done)
                self._state = self._reset_envs(ids, self._state)
                obs = _put_rows(obs, ids, self._observe(self._state, ids))
            else:
                info.update(record)
        if self.autoreset_mode is AutoresetMode.NEXT_STEP:
            self._waiting = done
        elif self.autoreset_mode is AutoresetMode.DISABLED:
            self._waiting |= done
        return obs, result.reward, result.terminated, result.truncated, info

    def _hold(
        self,
        ids: np.ndarray,
        kept: tuple[np.ndarray, EpisodeState] | None,
        result: StepResult,
        physics_error: np.ndarray,
    ) -> tuple[StepResult, np.ndarray]:
        """Waiting envs `ids` earn nothing and end nothing at this step: NEXT_STEP starts their
        next episode, DISABLED puts back the state `kept` from before the step."""
        if kept is None:
            self._state = self._reset_envs(ids, result.state)
        else:
            physics, state = kept
            self.physics.restore(ids, physics)
            old = (np.asarray(field)[ids] for field in state)
            self._state = EpisodeState(
                *(_put(new, ids, was) for new, was in zip(result.state, old, strict=True))
            )
        moved = np.ones(self.num_envs, dtype=bool)
        moved[ids] = False
        result = StepResult(
            self._state,
            np.where(moved, result.reward, 0.0),
            result.terminated & moved,
            result.truncated & moved,
            result.success & moved,
        )
        return result, physics_error & moved

    @property
    def episode_state(self) -> EpisodeState | None:
        return self._state

    def set_randomization_fraction(self, fraction: float) -> None:
        """Randomize `fraction` (0 to 1) of this env's randomization from now on, each env from
        its next reset (sensor noise at once): how a training run grows it."""
        if self._randomizer is None:
            raise ValueError(f"{self.env_id} was made without randomize=: nothing to scale")
        self._randomizer.set_fraction(fraction)

    # ---- privileges --------------------------------------------------------------------------

    @property
    def privilege_scales(self) -> dict[str, np.ndarray]:
        """The scale of every privilege acting in each env, name -> (num_envs,)."""
        names = self.privileges.names if self.privileges is not None else ()
        return {name: self._privilege_scale[:, i].copy() for i, name in enumerate(names)}

    def set_privilege_scales(self, scales: Mapping[str, Any]) -> None:
        """Set privileges' scales (name -> a scalar or one per env). Envs at the start of an
        episode take them now, the others at their next reset: moving the robot's table under
        a robot in mid-episode could trap it."""
        if self.privileges is None:
            raise ValueError(f"{self.env_id} has no privileges; make it with privileged=True")
        self._next_privilege_scale = self.privileges.merged(scales, self._next_privilege_scale)
        state = self._state
        starting = np.ones(self.num_envs, bool) if state is None else state.steps == 0
        self._take_privilege_scales(np.flatnonzero(starting))

    def _take_privilege_scales(self, ids: np.ndarray) -> None:
        self._privilege_scale[ids] = self._next_privilege_scale[ids]
        self.physics.set_mocap_pos(ids, self.privileges.mocap_pos(self._privilege_scale[ids]))

    def snapshot(self) -> Snapshot:
        """The simulator quantities the task functions see, for every env."""
        return self.physics.snapshot()

    # ---- rendering -------------------------------------------------------------------------------

    def render(self, env: int = 0) -> np.ndarray | None:
        """An RGB frame of env `env` (rgb_array) or a viewer sync (human)."""
        if self.render_mode is None:
            gym.logger.warn("render() called without a render_mode")
            return None
        self.physics.data(env, self._renderer.data)
        state = EpisodeState(*(np.asarray(x)[env] for x in self._state)) if self._state else None
        return self._renderer.render(state)

    def close(self, **kwargs: Any) -> None:
        self._renderer.close()
        super().close(**kwargs)


class SkillEnv(gym.Env):
    """One env of a task, for `gym.make`; a batch of one underneath."""

    metadata: dict[str, Any] = {"render_modes": ["rgb_array", "human"]}

    def __init__(self, task: Task, render_mode: str | None = None, **kwargs: Any) -> None:
        if "num_threads" in kwargs:
            raise TypeError("a single env steps on one thread; num_threads is for gym.make_vec")
        self._vec = SkillVectorEnv(
            task, num_envs=1, num_threads=1, render_mode=render_mode, **kwargs
        )
        self.task = task
        self.model = self._vec.model
        self.privileges = self._vec.privileges
        self.frame_skip = self._vec.frame_skip
        self.dt = self._vec.dt
        self.render_mode = render_mode
        self.action_space = self._vec.single_action_space
        self.observation_space = self._vec.single_observation_space
        self.metadata = {**self.metadata, "render_fps": self._vec.metadata["render_fps"]}

    @property
    def data(self) -> mujoco.MjData:
        """The simulation's full MjData (a copy)."""
        return self._vec.physics.data(0)

    @property
    def privilege_scales(self) -> dict[str, np.ndarray]:
        return self._vec.privilege_scales

    def set_privilege_scales(self, scales: Mapping[str, Any]) -> None:
        self._vec.set_privilege_scales(scales)

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[Any, dict[str, Any]]:
        super().reset(seed=seed)
        obs, info = self._vec.reset(seed=seed, options=options)
        return _first(obs), info

    def step(self, action: Any) -> tuple[Any, float, bool, bool, dict[str, Any]]:
        action = check_action(action, self.action_space.shape, self._vec.env_id)
        result, physics_error = self._vec.step_batch(action[None])
        info = {"success": bool(result.success[0]), "physics_error": bool(physics_error[0])}
        done = bool(result.terminated[0] or result.truncated[0])
        if done:
            summary = self.task.episode_summary(result.state)
            info[EPISODE_KEY] = {k: v[0].item() for k, v in summary.items()}
        obs = _first(self._vec._observe(result.state))
        if physics_error[0]:
            obs = np.zeros_like(obs) if isinstance(obs, np.ndarray) else _zero_where(obs, None)
        return (
            obs,
            float(result.reward[0]),
            bool(result.terminated[0]),
            bool(result.truncated[0]),
            info,
        )

    def render(self) -> np.ndarray | None:
        return self._vec.render(0)

    def close(self) -> None:
        self._vec.close()


def _first(tree: Any) -> Any:
    """Env 0 of a batched array, dict of arrays or frame."""
    if isinstance(tree, dict):
        return {k: v[0] for k, v in tree.items()}
    if isinstance(tree, tuple):
        return type(tree)(*(x[0] for x in tree))
    return tree[0]


def _put_rows(obs: Any, ids: np.ndarray, new: Any) -> Any:
    """A copy of a batch of observations with rows `ids` replaced."""
    if isinstance(obs, dict):
        return {k: _put(v, ids, new[k]) for k, v in obs.items()}
    return _put(obs, ids, new)


def _put(old: np.ndarray, ids: np.ndarray, new: np.ndarray) -> np.ndarray:
    out = np.array(old, copy=True)
    out[ids] = new
    return out


def _zero_where(obs: Any, mask: np.ndarray | None) -> Any:
    if isinstance(obs, dict):
        return {k: _zero_where(v, mask) for k, v in obs.items()}
    if mask is None:
        return np.zeros_like(obs)
    return np.where(mask[:, None], 0.0, obs).astype(obs.dtype)


def object_rows(obs: Any, mask: np.ndarray) -> np.ndarray:
    """Per-env observations where `mask` is set, None elsewhere (Gymnasium's `final_obs`)."""
    out = np.full(len(mask), None, dtype=object)
    for i in np.flatnonzero(mask):
        out[i] = {k: v[i] for k, v in obs.items()} if isinstance(obs, dict) else obs[i]
    return out


def _with_masks(info: dict[str, Any], mask: np.ndarray) -> dict[str, Any]:
    """Gymnasium's vector info layout: every key `k` beside a mask `_k` of the envs it holds."""
    out: dict[str, Any] = {}
    for key, value in info.items():
        out[key] = _with_masks(value, mask) if isinstance(value, dict) else value
        out[f"_{key}"] = mask
    return out
