"""The task interface: one definition of a skill that every physics backend runs.

A `Task` owns three kinds of things:

* structure, used once: the MjSpec of its scene and the indices it reads from the compiled model;
* sizes: goal, observation, the number of uniform samples a reset consumes;
* pure array functions over a `Snapshot`: reset sampling, observations, reward terms, termination,
  accuracy metrics and success.

`advance` is the per-step bookkeeping shared by the backends: it turns a frame into rewards,
done flags, success and episode statistics, with no state outside its arguments.
"""

from __future__ import annotations

import dataclasses
import warnings
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from typing import Any, ClassVar, NamedTuple

import mujoco
import numpy as np

from skillgym.core.arrays import Array, put, xp_of
from skillgym.core.privileges import Privilege
from skillgym.core.robots import RobotConfig, action_scales
from skillgym.core.snapshot import Snapshot

RewardTerm = Callable[["Task", Snapshot, "EpisodeState", Array], Array]


class ResetSample(NamedTuple):
    """Initial state, goal and memory drawn for a reset."""

    qpos: Array
    qvel: Array
    goal: Array
    memory: Array


class EpisodeState(NamedTuple):
    """Per-env episode bookkeeping, carried between steps (a pytree for JAX)."""

    goal: Array  # (..., goal_size)
    last_action: Array  # (..., nu)
    steps: Array  # (...,) control steps taken this episode
    episode_return: Array  # (...,)
    streak: Array  # (...,) consecutive steps with the goal reached
    success_once: Array  # (...,) bool: success at any step so far
    metric_sums: Array  # (..., n_metrics) running sums of the task's metrics
    last_metrics: Array  # (..., n_metrics) the task's metrics at the latest step
    feasibility_sums: Array  # (..., len(FEASIBILITY_METRICS)) running sums of them
    reward_sums: Array  # (..., len(reward_weights)) each weighted reward term's part of the return
    memory: Array  # (..., task.memory_size) what terms and success rules remember, e.g. air time


class StepResult(NamedTuple):
    """What one control step produced, before any auto-reset."""

    state: EpisodeState
    reward: Array
    terminated: Array
    truncated: Array
    success: Array


FEASIBILITY_METRICS: tuple[str, ...] = (
    "abs_torque",
    "abs_joint_vel",
    "tilt",  # of the robot's tilt site from upright: the pelvis of a humanoid, the hand of the arm
    "power",
    "energy",  # mean |torque| x mean |joint velocity|
    "action_change",  # mean |a_t - a_{t-1}|, a_{-1} = 0 (the default pose)
    "joint_limit_violation",  # fraction of actuated joints beyond their range
)


@dataclasses.dataclass(frozen=True)
class TaskConfig:
    """Settings every task has; skills extend it with their own fields."""

    episode_seconds: float = 5.0
    hold_seconds: float = 0.5  # the goal must be held this long to count as success
    reward_weights: Mapping[str, float] = dataclasses.field(default_factory=dict)
    reset_joint_noise: float = 0.05  # rad, uniform, around the default pose
    # What a privileged (training) env adds; see skillgym.core.privileges.
    privileges: tuple[Privilege, ...] = ()


class Task(ABC):
    """A goal-conditioned task on one robot. Subclasses are one small file each."""

    name: ClassVar[str]
    robot_kind: ClassVar[str]  # "humanoid" or "arm": the robots this task accepts
    goal_size: ClassVar[int]
    # The goal's entries as (name, unit), for people and deployment files; by default
    # goal[i] without a unit.
    goal_layout: ClassVar[tuple[tuple[str, str], ...]] = ()
    # Per-step metrics, averaged over the episode; the first is the headline accuracy error.
    metric_names: ClassVar[tuple[str, ...]]
    # Metrics of a whole episode, read from its memory at the end (see `episode_metrics`).
    episode_metric_names: ClassVar[tuple[str, ...]] = ()
    success_rule: ClassVar[str]  # one line, shown by `skillgym list`
    # Per-env buffer sizes for MuJoCo Warp, which allocates contacts and constraint rows up front.
    # Random-action rollouts of every scene stay within 8 contacts and 33 rows.
    max_contacts: ClassVar[int] = 24
    max_constraints: ClassVar[int] = 128
    # Numbers per env that reward terms or the success rule carry between steps; see
    # `update_memory`.
    memory_size: ClassVar[int] = 0
    # Uniform samples a reset draws for the memory's first values; see `initial_memory`.
    memory_uniforms: ClassVar[int] = 0
    # The camera videos are rendered from; None: the model's first (the robot's own).
    render_camera: ClassVar[str | None] = None

    def __init__(self, robot: RobotConfig, config: TaskConfig | None = None) -> None:
        if robot.kind != self.robot_kind:
            raise ValueError(f"{self.name} needs a {self.robot_kind} robot, not {robot.name!r}")
        self.robot = robot
        self.config = config if config is not None else self.default_config()
        self.terms = self.reward_terms()  # looked up once, not in every step
        unknown = set(self.config.reward_weights) - set(self.terms)
        if unknown:
            raise ValueError(f"{self.name}: unknown reward terms {sorted(unknown)}")
        if not self.config.reward_weights:
            raise ValueError(f"{self.name}: no reward terms are weighted")
        unweighted = sorted(set(self.terms) - set(self.config.reward_weights))
        if unweighted:  # most often a term added without its weight
            warnings.warn(
                f"{self.name}: reward terms {unweighted} have no weight, so they count for "
                "nothing (weigh them 0 to say so)",
                stacklevel=2,
            )
        self.reward_names = tuple(self.config.reward_weights)

    # ---- structure -------------------------------------------------------------------------

    @classmethod
    @abstractmethod
    def default_config(cls) -> TaskConfig:
        """The configuration the registered env uses."""

    def build_spec(self) -> mujoco.MjSpec:
        """The scene: the robot, plus whatever props the task adds."""
        from skillgym.assets import robot_spec

        return robot_spec(self.robot.name)

    def bind(self, model: mujoco.MjModel) -> None:
        """Resolve names into the index constants the array functions use."""
        home = model.keyframe("home")
        self.home_qpos = np.array(home.qpos)
        self.default_ctrl = np.array(home.ctrl)
        names = [model.actuator(i).name for i in range(model.nu)]
        self.action_scale = np.array(action_scales(self.robot, names))
        # Joints driven directly by an actuator (a tendon-driven gripper is not among them).
        self.joint_actuators = np.array(
            [i for i in range(model.nu) if model.actuator_trntype[i] == mujoco.mjtTrn.mjTRN_JOINT]
        )
        joints = model.actuator_trnid[self.joint_actuators, 0]
        self.joint_qpos_adr = model.jnt_qposadr[joints]
        self.joint_dof_adr = model.jnt_dofadr[joints]
        self.joint_actuator_index = _index(self.joint_actuators)
        self.joint_qpos = _index(self.joint_qpos_adr)
        self.joint_dof = _index(self.joint_dof_adr)
        self.default_joint_pos = self.home_qpos[self.joint_qpos_adr]
        limited = model.jnt_limited[joints].astype(bool)
        self.joint_lower = np.where(limited, model.jnt_range[joints, 0], -np.inf)
        self.joint_upper = np.where(limited, model.jnt_range[joints, 1], np.inf)
        self.dt = model.opt.timestep * self.robot.frame_skip
        self.episode_steps = round(self.config.episode_seconds / self.dt)
        self.hold_steps = max(1, round(self.config.hold_seconds / self.dt))
        self.tilt_site = model.site(self.robot.tilt_site).id
        self.nv = model.nv

    @staticmethod
    def sensor_slice(model: mujoco.MjModel, name: str) -> slice:
        sensor = model.sensor(name)
        return slice(int(sensor.adr[0]), int(sensor.adr[0] + sensor.dim[0]))

    def joint_pos(self, snap: Snapshot) -> Array:
        return snap.qpos[..., self.joint_qpos]

    def joint_vel(self, snap: Snapshot) -> Array:
        return snap.qvel[..., self.joint_dof]

    def joint_offset(self, snap: Snapshot) -> Array:
        """Joint positions relative to the default pose."""
        return self.joint_pos(snap) - self.default_joint_pos

    def joint_observation(
        self, snap: Snapshot, state: EpisodeState, vel_scale: float
    ) -> dict[str, Array]:
        """The proprioception every observation has after its goal, by term: joint offsets from
        the default pose, scaled joint velocities and the last action."""
        return {
            "joint_pos_rel_default": self.joint_offset(snap),
            "joint_vel": vel_scale * self.joint_vel(snap),
            "last_action": state.last_action,
        }

    # ---- sizes -----------------------------------------------------------------------------

    @property
    def reset_uniforms(self) -> int:
        """How many uniform samples one env's reset consumes."""
        return len(self.joint_qpos_adr) + self.goal_uniforms + self.memory_uniforms

    goal_uniforms: ClassVar[int]

    # ---- pure array functions ----------------------------------------------------------------

    def sample_reset(self, u: Array) -> ResetSample:
        """Default pose with uniform joint noise, zero velocity, a sampled goal and the memory's
        first values."""
        xp = xp_of(u)
        nj = len(self.joint_qpos_adr)
        noise = self.config.reset_joint_noise * (2.0 * u[..., :nj] - 1.0)
        home = xp.asarray(self.home_qpos)
        qpos = home + xp.zeros(u.shape[:-1] + home.shape)
        qpos = put(qpos, self.joint_qpos, qpos[..., self.joint_qpos] + noise)
        nv = self.nv
        qvel = xp.zeros(u.shape[:-1] + (nv,))
        goal_end = nj + self.goal_uniforms
        qpos, goal = self.sample_episode(u[..., nj:goal_end], qpos)
        return ResetSample(qpos, qvel, goal, self.initial_memory(u[..., goal_end:]))

    @abstractmethod
    def sample_episode(self, u: Array, qpos: Array) -> tuple[Array, Array]:
        """Goal and object placement from `goal_uniforms` uniform samples: (qpos, goal)."""

    @abstractmethod
    def observation_terms(self, snap: Snapshot, state: EpisodeState) -> dict[str, Array]:
        """The policy's observation as named terms in order, goal first: `observe` joins them.
        Names come from one vocabulary (docs/environments.md), so a term of one task means
        the same quantity, scaled the same way, in every other."""

    @abstractmethod
    def observation_sources(self) -> dict[str, tuple[str, float, Any]]:
        """For each observation term: the quantity a robot measures for it (docs/deployment.md
        lists them), and the scale and offset that make the term `scale * (source - offset)`."""

    def observation_layout(self, snap: Snapshot, state: EpisodeState) -> dict[str, tuple[int, int]]:
        """Each observation term's start and size in the joined observation."""
        layout, start = {}, 0
        for name, value in self.observation_terms(snap, state).items():
            layout[name] = (start, value.shape[-1])
            start += value.shape[-1]
        return layout

    def observe(self, snap: Snapshot, state: EpisodeState) -> Array:
        """The policy's observation: `observation_terms` joined."""
        terms = list(self.observation_terms(snap, state).values())
        return xp_of(terms[0]).concat(terms, axis=-1)

    @abstractmethod
    def critic_observation(self, snap: Snapshot, state: EpisodeState) -> Array:
        """Extra quantities for an asymmetric critic (not available on a real robot)."""

    @abstractmethod
    def reward_terms(self) -> Mapping[str, RewardTerm]:
        """Named reward terms; `config.reward_weights` says how much each counts."""

    @abstractmethod
    def terminated(self, snap: Snapshot, state: EpisodeState) -> Array:
        """True where the episode ends in failure (a fall, a dropped object)."""

    @abstractmethod
    def metrics(self, snap: Snapshot, state: EpisodeState) -> Array:
        """Per-step accuracy metrics, (..., len(metric_names))."""

    @abstractmethod
    def reached(self, snap: Snapshot, state: EpisodeState) -> Array:
        """True where the goal is met at this step."""

    def initial_memory(self, u: Array) -> Array:
        """The memory at an episode's start from `memory_uniforms` uniform samples; zeros by
        default."""
        xp = xp_of(u)
        return xp.zeros(u.shape[:-1] + (self.memory_size,))

    def update_memory(self, snap: Snapshot, state: EpisodeState) -> Array:
        """The memory after this step. Reward terms read the memory before it (`state`), so
        they see what changed at this step. By default nothing is kept."""
        return state.memory

    def success(self, state: EpisodeState) -> Array:
        """Default rule: the goal held for `hold_seconds`."""
        return state.streak >= self.hold_steps

    def episode_metrics(self, state: EpisodeState) -> Array:
        """Metrics of the episode so far from its memory, (..., len(episode_metric_names)):
        quantities that are no mean over steps, such as a stride's height."""
        xp = xp_of(state.goal)
        return xp.zeros(state.goal.shape[:-1] + (0,))

    def applied_action(self, action: Array, state: EpisodeState) -> Array:
        """The robot action the physics receives for the policy's `action` (clipped to [-1, 1]);
        a task that drives some joints itself during training overrides it. The policy's own
        action by default."""
        return action

    def markers(self, data: mujoco.MjData, state: EpisodeState) -> np.ndarray:
        """World positions of goal markers to draw for one env, (k, 3)."""
        return np.zeros((0, 3))

    # ---- helpers the backends share -----------------------------------------------------------

    def ctrl_from_action(self, action: Array) -> Array:
        """PD targets: default pose plus the scaled action."""
        xp = xp_of(action)
        return xp.asarray(self.default_ctrl) + xp.asarray(self.action_scale) * action

    def initial_state(self, goal: Array, memory: Array | None = None) -> EpisodeState:
        """A fresh episode's bookkeeping; `memory` from the reset sample (zeros if None)."""
        xp = xp_of(goal)
        batch = goal.shape[:-1]
        zeros = xp.zeros(batch)
        return EpisodeState(
            goal=goal,
            last_action=xp.zeros(batch + (len(self.default_ctrl),)),
            steps=xp.zeros(batch, dtype=xp.int32),
            episode_return=zeros,
            streak=xp.zeros(batch, dtype=xp.int32),
            success_once=xp.zeros(batch, dtype=xp.bool),
            metric_sums=xp.zeros(batch + (len(self.metric_names),)),
            last_metrics=xp.zeros(batch + (len(self.metric_names),)),
            feasibility_sums=xp.zeros(batch + (len(FEASIBILITY_METRICS),)),
            reward_sums=xp.zeros(batch + (len(self.reward_names),)),
            memory=xp.zeros(batch + (self.memory_size,)) if memory is None else memory,
        )

    def feasibility(self, snap: Snapshot, state: EpisodeState, action: Array) -> Array:
        """Per-step FEASIBILITY_METRICS of `action` taken after `state`."""
        xp = xp_of(snap.qvel)
        torque = xp.abs(snap.actuator_force)
        joint_vel = xp.abs(self.joint_vel(snap))
        joint_torque = torque[..., self.joint_actuator_index]
        up = snap.site_xmat[..., self.tilt_site, 8]  # z component of the base's z axis
        mean_torque = xp.mean(torque, axis=-1)
        mean_joint_vel = xp.mean(joint_vel, axis=-1)
        joint_pos = self.joint_pos(snap)
        beyond = (joint_pos < xp.asarray(self.joint_lower)) | (
            joint_pos > xp.asarray(self.joint_upper)
        )
        return xp.stack(
            [
                mean_torque,
                mean_joint_vel,
                xp.acos(xp.clip(up, -1.0, 1.0)),
                xp.sum(joint_torque * joint_vel, axis=-1),
                mean_torque * mean_joint_vel,
                xp.mean(xp.abs(action - state.last_action), axis=-1),
                xp.mean(xp.where(beyond, 1.0, 0.0), axis=-1),
            ],
            axis=-1,
        )

    def advance(self, snap: Snapshot, state: EpisodeState, action: Array) -> StepResult:
        """Book-keep one control step taken with `action`; pure, for every backend."""
        xp = xp_of(action)
        rewards = self.dt * xp.stack(
            [
                weight * self.terms[name](self, snap, state, action)
                for name, weight in self.config.reward_weights.items()
            ],
            axis=-1,
        )
        reward = xp.sum(rewards, axis=-1)
        reached = self.reached(snap, state)
        metrics = self.metrics(snap, state)
        steps = state.steps + 1
        state = state._replace(
            last_action=action,
            steps=steps,
            episode_return=state.episode_return + reward,
            streak=xp.where(reached, state.streak + 1, xp.zeros_like(state.streak)),
            metric_sums=state.metric_sums + metrics,
            last_metrics=metrics,
            feasibility_sums=state.feasibility_sums + self.feasibility(snap, state, action),
            reward_sums=state.reward_sums + rewards,
            memory=self.update_memory(snap, state),
        )
        success = self.success(state)
        terminated = self.terminated(snap, state)
        # An episode that ends in failure (a fall, a dropped object) is no success, whatever
        # it reached before.
        state = state._replace(success_once=(state.success_once | success) & ~terminated)
        truncated = (steps >= self.episode_steps) & ~terminated
        return StepResult(state, reward, terminated, truncated, success)

    def episode_summary(self, state: EpisodeState) -> dict[str, Any]:
        """The episode so far: return `r`, length `l`, `success` at any step and
        `success_at_end`, the means of the accuracy and feasibility metrics, the accuracy
        metrics at the latest step (`<metric>_at_end`) and each reward term's part of the return
        (`reward/<term>`, what shows which terms a policy earns). Host arrays, for info dicts and
        evaluation."""
        steps = np.maximum(np.asarray(state.steps), 1)[..., None]
        metrics = np.asarray(state.metric_sums) / steps
        last_metrics = np.asarray(state.last_metrics)
        feas = np.asarray(state.feasibility_sums) / steps
        out = {
            "r": np.asarray(state.episode_return),
            "l": np.asarray(state.steps),
            "success": np.asarray(state.success_once),
            "success_at_end": np.asarray(self.success(state)),
        }
        out.update({name: metrics[..., i] for i, name in enumerate(self.metric_names)})
        out.update(
            {f"{name}_at_end": last_metrics[..., i] for i, name in enumerate(self.metric_names)}
        )
        out.update({name: feas[..., i] for i, name in enumerate(FEASIBILITY_METRICS)})
        episode_metrics = np.asarray(self.episode_metrics(state))
        out.update(
            {name: episode_metrics[..., i] for i, name in enumerate(self.episode_metric_names)}
        )
        rewards = np.asarray(state.reward_sums)
        out.update({f"reward/{name}": rewards[..., i] for i, name in enumerate(self.reward_names)})
        return out


def _index(indices: np.ndarray) -> slice | np.ndarray:
    """A slice where the indices are contiguous (a view, no copy), else the index array."""
    if len(indices) and np.array_equal(indices, np.arange(indices[0], indices[0] + len(indices))):
        return slice(int(indices[0]), int(indices[0]) + len(indices))
    return indices
