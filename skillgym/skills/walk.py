"""Walk: track a commanded planar velocity (vx, vy, yaw rate) in the pelvis frame.

Every command moves: its planar speed is at least `WalkConfig.min_command_speed`, so standing
still never tracks it. Success needs the planar velocity tracked at every step on average and
the heading turned at the commanded rate over the episode.
"""

from __future__ import annotations

import dataclasses

import mujoco
import numpy as np

from skillgym.core.arrays import Array, put, uniform, xp_of
from skillgym.core.privileges import NarrowCommands, PelvisHarness, Privilege, ReducedGravity
from skillgym.core.rewards import tracking
from skillgym.core.robots import HumanoidConfig
from skillgym.core.snapshot import Snapshot
from skillgym.core.task import EpisodeState
from skillgym.skills.humanoid import HumanoidSkill, HumanoidTaskConfig, humanoid_weights

# Memory layout: each foot's (left, right) air time; the heading error so far (the yaw-rate error
# integrated over the episode, rad); each foot's xy at the last step (for slip); each swing's
# peak height so far; per foot, the sums over the steps taken of swing seconds and peak heights,
# and their count; the recent heading error (see `track_heading`); then the arm motion's switch,
# frequency (Hz) and its two arm targets; then the commands of the episode's later segments (see
# `WalkConfig.command_seconds`).
_AIR = slice(0, 2)
_HEADING = 2
_FOOT_XY = slice(3, 7)
_SWING_PEAK = slice(7, 9)
_SWING_SECONDS = slice(9, 11)
_PEAK_SUMS = slice(11, 13)
_STEPS_TAKEN = slice(13, 15)
_RECENT_HEADING = 15
_ARM_ON = 16
_ARM_FREQUENCY = 17
_ARM_TARGETS = 18
LATER_COMMANDS = 3  # command segments after the first, where an episode has segments


@dataclasses.dataclass(frozen=True)
class WalkConfig(HumanoidTaskConfig):
    command_low: tuple[float, float, float] = (-0.5, -0.3, -0.5)  # vx, vy (m/s), yaw rate (rad/s)
    command_high: tuple[float, float, float] = (1.0, 0.3, 0.5)
    # m/s; every command's planar speed is at least this: vx is drawn from the parts of its range
    # that, with the command's vy, reach it.
    min_command_speed: float = 0.3
    max_mean_velocity_error: float = 0.25  # m/s, the mean over the episode's steps, for success
    # rad/s, for success: the episode's mean yaw rate (its heading change over its length) from
    # the commanded one. The mean of the signed error, since the pelvis sways in yaw with every
    # stride and the rate's step-by-step error measures that sway as much as the turning.
    max_mean_yaw_rate_error: float = 0.1
    velocity_tolerance: float = 0.25  # m/s, planar velocity error at a step that counts as met
    velocity_sigma: float = 0.25  # (m/s)^2, of exp(-error^2 / sigma) in `track_velocity`
    yaw_rate_sigma: float = 0.05  # (rad/s)^2, of exp(-error^2 / sigma) in `track_yaw_rate`
    heading_sigma: float = 0.04  # rad^2, of exp(-error^2 / sigma) in `track_heading`
    heading_seconds: float = 2.0  # s, how long `track_heading` remembers a heading error
    tilt_rate_weight: float = 0.05  # m^2/rad^2: roll and pitch rates' part in `vertical_motion`
    # Swings of a foot that count as steps, in seconds off the ground; see `feet_air_time`.
    air_time_range: tuple[float, float] = (0.2, 0.5)
    min_walking_command: float = 0.1  # m/s; below it, standing still is the gait
    # Gait shaping: `pelvis_height` costs a pelvis below this fraction of its default height (a
    # crouch), and `feet_clearance` pays a swing's peak up to this lift of the foot (m).
    height_fraction: float = 0.95
    clearance: float = 0.08
    # Training: the share of episodes whose arm joints follow targets of their own (two random
    # poses, in action units within +-arm_motion_range, swung between once per period, in s)
    # instead of the policy's actions, so that the legs learn to walk whatever the arms do, as
    # they must when a blend gives the arms to Reach. The registered env keeps the arms the
    # policy's.
    arm_motion: float = 0.0
    arm_motion_range: float = 0.8
    # The motion's share of the arm joints' actions in those episodes, the rest the policy's:
    # what a blend does when it gives the arms partly to another skill. Below 1, a curriculum
    # for a Walk that balances with its arms (raised step by step to 1 over fine-tunes).
    arm_motion_weight: float = 1.0
    arm_motion_period: tuple[float, float] = (1.0, 4.0)
    # Training: a new command every `command_seconds` (0: one command per episode), up to
    # LATER_COMMANDS times, each one with probability `stand_probability` a command to stop
    # there, half of those turning in place and half standing still: what a controller that
    # composes Walk asks of it, which walks up to a target, turns and stops. The registered env
    # keeps one moving command per episode.
    command_seconds: float = 0.0
    stand_probability: float = 0.0
    # The humanoid help, plus commands nearer to standing still while tracking is poor.
    privileges: tuple[Privilege, ...] = (PelvisHarness(), ReducedGravity(), NarrowCommands())


class Walk(HumanoidSkill):
    name = "Walk"
    config: WalkConfig
    goal_size = 3
    goal_layout = (("vx", "m/s"), ("vy", "m/s"), ("yaw_rate", "rad/s"))  # in the pelvis frame
    goal_uniforms = 3
    # Tracking first, then the gait: the pelvis height and the stance width as fractions of the
    # default pose's, and the planar speed of the feet on the ground (m/s).
    metric_names = (
        "velocity_error",
        "yaw_rate_error",
        "height_ratio",
        "stance_width_ratio",
        "foot_slip",
    )
    # The mean peak lift of the swinging foot over the steps taken (m), and how unequal the
    # left and right feet's mean swing times are (|left - right| / their mean).
    episode_metric_names = ("foot_clearance", "step_asymmetry")
    success_rule = (
        "10 s without a fall, mean planar velocity error <= 0.25 m/s and mean yaw rate within "
        "0.1 rad/s of the command (commands of >= 0.3 m/s)"
    )

    def __init__(self, robot: HumanoidConfig, config: WalkConfig | None = None) -> None:
        arms = len(robot.arm_actuators)
        self.later_commands = _ARM_TARGETS + 2 * arms  # where they start in the memory
        self.memory_size = self.later_commands + 3 * LATER_COMMANDS
        # switch, frequency, two arm targets; per later command, three and one to stand
        self.memory_uniforms = 2 + 2 * arms + 4 * LATER_COMMANDS
        super().__init__(robot, config)

    @classmethod
    def default_config(cls) -> WalkConfig:
        return WalkConfig(
            episode_seconds=10.0,
            reward_weights=humanoid_weights(
                track_velocity=2.0,
                track_yaw_rate=1.5,
                track_heading=2.0,
                vertical_motion=-0.5,
                posture=0.2,
                feet_air_time=1.0,
                feet_air_too_long=-2.0,
                pelvis_height=-30.0,
                stance_width=-20.0,
                feet_slip=-1.0,
                feet_clearance=1.0,
                arm_posture=-0.1,
            ),
        )

    def bind(self, model: mujoco.MjModel) -> None:
        super().bind(model)
        names = [model.actuator(i).name for i in range(model.nu)]
        self.arm_index = np.array([names.index(name) for name in self.robot.arm_actuators])
        self.home_height = float(self.home_site_xpos[self.pelvis, 2])
        feet = [self.home_local(site) for site in self.robot.foot_sites]
        self.home_stance_width = float(abs(feet[0][1] - feet[1][1]))
        self.foot_rest_height = float(self.home_site_xpos[self.sites[self.robot.foot_sites[0]], 2])

    def sample_episode(self, u: Array, qpos: Array) -> tuple[Array, Array]:
        return qpos, self.sample_command(u)

    def sample_command(self, u: Array) -> Array:
        """A command from three uniform samples: vy and the yaw rate uniform in their ranges;
        vx uniform over the parts of its range where the planar speed is at least
        `min_command_speed`: [low, -gap] and [gap, high], `gap` being what vy leaves of it."""
        xp = xp_of(u)
        (x_low, y_low, yaw_low), (x_high, y_high, yaw_high) = (
            self.config.command_low,
            self.config.command_high,
        )
        vy = uniform(u[..., 1], y_low, y_high)
        gap = xp.sqrt(xp.clip(self.config.min_command_speed**2 - vy**2, 0.0, None))
        backward = xp.clip(xp.minimum(-gap, x_high) - x_low, 0.0, None)  # length of [low, -gap]
        forward_start = xp.maximum(gap, x_low)
        forward = xp.clip(x_high - forward_start, 0.0, None)  # length of [gap, high]
        t = u[..., 0] * (backward + forward)
        vx = xp.where(t < backward, x_low + t, forward_start + (t - backward))
        yaw_rate = uniform(u[..., 2], yaw_low, yaw_high)
        return xp.stack([vx, vy, yaw_rate], axis=-1)

    def initial_memory(self, u: Array) -> Array:
        """Zeros, but for the arm motion (whether this episode has it, its frequency and its
        two targets) and the later commands."""
        xp = xp_of(u)
        arms = len(self.robot.arm_actuators)
        on = xp.astype(u[..., 0:1] < self.config.arm_motion, u.dtype)
        shortest, longest = self.config.arm_motion_period
        frequency = 1.0 / uniform(u[..., 1:2], shortest, longest)
        reach = self.config.arm_motion_range
        targets = uniform(u[..., 2 : 2 + 2 * arms], -reach, reach)
        zeros = xp.zeros(u.shape[:-1] + (_ARM_ON,))
        later = []
        for k in range(LATER_COMMANDS):
            draws = u[..., 2 + 2 * arms + 4 * k : 2 + 2 * arms + 4 * (k + 1)]
            moving = self.sample_command(draws[..., :3])
            turning = moving * xp.asarray([0.0, 0.0, 1.0])  # the same yaw rate, in place
            stop = draws[..., 3:4]  # below stand_probability: a stop, its lower half turning
            stand = self.config.stand_probability
            later.append(xp.where(stop < stand / 2, turning, xp.where(stop < stand, 0.0, moving)))
        return xp.concat([zeros, on, frequency, targets, *later], axis=-1)

    def command(self, state: EpisodeState) -> Array:
        """The command at this step: the goal, or in an episode with command segments, the
        segment's."""
        if self.config.command_seconds <= 0.0:
            return state.goal
        xp = xp_of(state.goal)
        segment = xp.astype(state.steps * self.dt // self.config.command_seconds, xp.int32)
        command = state.goal
        for k in range(LATER_COMMANDS):
            start = self.later_commands + 3 * k
            later = state.memory[..., start : start + 3]
            command = xp.where((segment == k + 1)[..., None], later, command)
        last = self.later_commands + 3 * (LATER_COMMANDS - 1)
        beyond = (segment > LATER_COMMANDS)[..., None]
        return xp.where(beyond, state.memory[..., last : last + 3], command)

    def goal_observation(self, snap: Snapshot, state: EpisodeState) -> Array:
        return self.command(state)

    def applied_action(self, action: Array, state: EpisodeState) -> Array:
        """The policy's action, with the arms' entries moved `arm_motion_weight` of the way
        to the arm motion in the episodes that have it."""
        if self.config.arm_motion == 0.0:
            return action
        xp = xp_of(action)
        arms = len(self.arm_index)
        memory = state.memory
        first = memory[..., _ARM_TARGETS : _ARM_TARGETS + arms]
        second = memory[..., _ARM_TARGETS + arms : _ARM_TARGETS + 2 * arms]
        seconds = state.steps * self.dt
        phase = 2.0 * np.pi * memory[..., _ARM_FREQUENCY] * seconds
        # Faded in over the shortest period from the default pose, so no episode starts with
        # a jerk of the arms.
        fade = xp.clip(seconds / self.config.arm_motion_period[0], 0.0, 1.0)[..., None]
        moving = fade * (first + (second - first) * (0.5 - 0.5 * xp.cos(phase))[..., None])
        own = action[..., self.arm_index]
        mixed = own + self.config.arm_motion_weight * (moving - own)
        on = memory[..., _ARM_ON : _ARM_ON + 1] > 0.5
        return put(action, self.arm_index, xp.where(on, mixed, own))

    def estimated_terms(self, snap: Snapshot) -> dict[str, Array]:
        """The base velocity the command is tracked against (on hardware, an estimate)."""
        return {"base_lin_vel": self.base_lin_vel(snap)}

    def velocity_error_sq(self, snap: Snapshot, state: EpisodeState) -> Array:
        xp = xp_of(snap.qpos)
        command = self.command(state)
        return xp.sum((self.base_lin_vel(snap)[..., :2] - command[..., :2]) ** 2, axis=-1)

    def yaw_rate_error(self, snap: Snapshot, state: EpisodeState) -> Array:
        return self.base_ang_vel(snap)[..., 2] - self.command(state)[..., 2]

    # ---- the gait ---------------------------------------------------------------------------

    def feet(self, snap: Snapshot) -> Array:
        """World positions of the feet (left, right), (..., 2, 3)."""
        return self.site_positions(snap, self.robot.foot_sites)

    def stance_width(self, snap: Snapshot) -> Array:
        """The feet's distance across the pelvis heading (m)."""
        xp = xp_of(snap.qpos)
        local = self.relative(snap, self.feet(snap))
        return xp.abs(local[..., 0, 1] - local[..., 1, 1])

    def height_shortfall(self, snap: Snapshot) -> Array:
        """How far (m) the pelvis is below `height_fraction` of its default height."""
        target = self.config.height_fraction * self.home_height
        return xp_of(snap.qpos).clip(target - self.base_height(snap), 0.0, None)

    def planted_foot_speed(self, snap: Snapshot, state: EpisodeState) -> Array:
        """Planar speed (m/s) of each foot that was and is on the ground, 0 for the others
        and at an episode's first step, (..., 2)."""
        xp = xp_of(snap.qpos)
        was_planted = (state.memory[..., _AIR] == 0.0) & (state.steps > 0)[..., None]
        planted = self.foot_contact(snap) & was_planted
        xy = xp.reshape(self.feet(snap)[..., :2], snap.qpos.shape[:-1] + (4,))
        moved = xp.reshape(xy - state.memory[..., _FOOT_XY], snap.qpos.shape[:-1] + (2, 2))
        speed = xp.sqrt(xp.sum(moved**2, axis=-1)) / self.dt
        return xp.where(planted, speed, 0.0)

    def update_memory(self, snap: Snapshot, state: EpisodeState) -> Array:
        xp = xp_of(snap.qpos)
        memory = state.memory
        air = memory[..., _AIR]
        yaw_rate_error = self.yaw_rate_error(snap, state)[..., None]
        heading_error = memory[..., _HEADING : _HEADING + 1] + self.dt * yaw_rate_error
        feet = self.feet(snap)
        lift = feet[..., 2] - self.foot_rest_height
        contact = self.foot_contact(snap)
        peak = memory[..., _SWING_PEAK]
        landed = self.step_touchdown(snap, air)
        counted = xp.astype(landed, lift.dtype)
        return xp.concat(
            [
                self.air_time(snap, air),
                heading_error,
                xp.reshape(feet[..., :2], snap.qpos.shape[:-1] + (4,)),
                xp.where(contact, 0.0, xp.maximum(peak, lift)),
                memory[..., _SWING_SECONDS] + counted * (air + self.dt),
                memory[..., _PEAK_SUMS] + counted * peak,
                memory[..., _STEPS_TAKEN] + counted,
                (1.0 - self.dt / self.config.heading_seconds)
                * memory[..., _RECENT_HEADING : _RECENT_HEADING + 1]
                + self.dt * yaw_rate_error,
                memory[..., _ARM_ON:],  # the arm motion and the later commands
            ],
            axis=-1,
        )

    def walking(self, command: Array) -> Array:
        """Whether a command asks for a gait: planar speed above `min_walking_command`."""
        xp = xp_of(command)
        return xp.sum(command[..., :2] ** 2, axis=-1) > self.config.min_walking_command**2

    def skill_reward_terms(self) -> dict:
        return {
            "track_velocity": track_velocity,
            "track_yaw_rate": track_yaw_rate,
            "track_heading": track_heading,
            "vertical_motion": vertical_motion,
            "feet_air_time": feet_air_time,
            "feet_air_too_long": feet_air_too_long,
            "pelvis_height": pelvis_height,
            "stance_width": stance_width,
            "feet_slip": feet_slip,
            "feet_clearance": feet_clearance,
            "arm_posture": arm_posture,
        }

    def metrics(self, snap: Snapshot, state: EpisodeState) -> Array:
        xp = xp_of(snap.qpos)
        slip = self.planted_foot_speed(snap, state)
        planted = xp.sum(xp.astype(slip > 0.0, slip.dtype), axis=-1)
        errors = [
            xp.sqrt(self.velocity_error_sq(snap, state)),
            xp.abs(self.yaw_rate_error(snap, state)),
            self.base_height(snap) / self.home_height,
            self.stance_width(snap) / self.home_stance_width,
            xp.sum(slip, axis=-1) / xp.maximum(planted, 1.0),
        ]
        return xp.stack(errors, axis=-1)

    def episode_metrics(self, state: EpisodeState) -> Array:
        xp = xp_of(state.goal)
        memory = state.memory
        steps = memory[..., _STEPS_TAKEN]
        clearance = xp.sum(memory[..., _PEAK_SUMS], axis=-1) / xp.maximum(
            xp.sum(steps, axis=-1), 1.0
        )
        swing = memory[..., _SWING_SECONDS] / xp.maximum(steps, 1.0)
        mean_swing = xp.mean(swing, axis=-1)
        asymmetry = xp.abs(swing[..., 0] - swing[..., 1]) / xp.maximum(mean_swing, 1e-6)
        both_stepped = xp.all(steps > 0, axis=-1)
        return xp.stack([clearance, xp.where(both_stepped, asymmetry, 0.0)], axis=-1)

    def reached(self, snap: Snapshot, state: EpisodeState) -> Array:
        error = xp_of(snap.qpos).sqrt(self.velocity_error_sq(snap, state))
        return error <= self.config.velocity_tolerance

    def success(self, state: EpisodeState) -> Array:
        """The whole episode walked: its mean planar velocity error and its mean yaw-rate error
        (heading error over its length) within their bounds. An episode whose command is to
        stand still (which the default commands never are) is no walk, so it is never a
        success; with command segments, the episode's first command decides that, so one that
        walks and then stops when told counts as the walk it tracked."""
        xp = xp_of(state.goal)
        mean_error = state.metric_sums[..., 0] / np.maximum(1, self.episode_steps)
        mean_yaw_rate_error = xp.abs(state.memory[..., _HEADING]) / (self.episode_steps * self.dt)
        finished = state.steps >= self.episode_steps
        tracked = (mean_error <= self.config.max_mean_velocity_error) & (
            mean_yaw_rate_error <= self.config.max_mean_yaw_rate_error
        )
        return finished & tracked & self.walking(state.goal)


def track_velocity(task: Walk, snap: Snapshot, state: EpisodeState, action: Array) -> Array:
    return tracking(task.velocity_error_sq(snap, state), task.config.velocity_sigma)


def track_yaw_rate(task: Walk, snap: Snapshot, state: EpisodeState, action: Array) -> Array:
    return tracking(task.yaw_rate_error(snap, state) ** 2, task.config.yaw_rate_sigma)


def track_heading(task: Walk, snap: Snapshot, state: EpisodeState, action: Array) -> Array:
    """The heading turned as commanded lately: the yaw-rate error integrated with a memory of
    `heading_seconds`. A steady turn off the command (a drift, or a turn not made) builds it up
    to that many seconds of the rate's error, while the stride's sway in yaw averages out; it
    never saturates as the episode's whole heading error would, so a drift costs all along."""
    return tracking(state.memory[..., _RECENT_HEADING] ** 2, task.config.heading_sigma)


def vertical_motion(task: Walk, snap: Snapshot, state: EpisodeState, action: Array) -> Array:
    xp = xp_of(snap.qpos)
    ang = task.base_ang_vel(snap)
    tilt_rates = xp.sum(ang[..., :2] ** 2, axis=-1)
    return task.base_lin_vel(snap)[..., 2] ** 2 + task.config.tilt_rate_weight * tilt_rates


def feet_air_time(task: Walk, snap: Snapshot, state: EpisodeState, action: Array) -> Array:
    """At each touchdown onto a standing foot's support, the swing's air time (capped) minus
    the shortest that counts as a step, while a walking command is given: strides pay,
    shuffling and tapping cost, and a standing robot earns nothing. Without it, standing still
    is a safe local optimum. Only swings of one foot while the other stands count, so hopping,
    or hanging in a training harness with both feet up, earns nothing. Paid as a rate (over
    one control step), so the weight prices a second of stride."""
    xp = xp_of(snap.qpos)
    shortest, longest = task.config.air_time_range
    air = state.memory[..., _AIR]
    swing = air + task.dt
    touchdown = task.step_touchdown(snap, air)
    paid = xp.sum(xp.where(touchdown, xp.clip(swing, 0.0, longest) - shortest, 0.0), axis=-1)
    return xp.where(task.walking(task.command(state)), paid / task.dt, 0.0)


def feet_air_too_long(task: Walk, snap: Snapshot, state: EpisodeState, action: Array) -> Array:
    """How many feet have been off the ground longer than the longest swing that counts as a
    step (`air_time_range`), whatever the command: hopping on one leg, or holding a foot up,
    costs for as long as it lasts. A foot that never lands escapes `feet_air_time` and
    `feet_clearance`, which pay at touchdown. A rate: the weight prices a second of it."""
    xp = xp_of(snap.qpos)
    air = state.memory[..., _AIR]
    return xp.sum(xp.astype(air > task.config.air_time_range[1], air.dtype), axis=-1)


def pelvis_height(task: Walk, snap: Snapshot, state: EpisodeState, action: Array) -> Array:
    """Squared shortfall (m^2) of the pelvis below its walking height: a crouch costs."""
    return task.height_shortfall(snap) ** 2


def stance_width(task: Walk, snap: Snapshot, state: EpisodeState, action: Array) -> Array:
    """Squared difference (m^2) of the feet's spread across the heading from the default's."""
    return (task.stance_width(snap) - task.home_stance_width) ** 2


def feet_slip(task: Walk, snap: Snapshot, state: EpisodeState, action: Array) -> Array:
    """Squared planar speeds ((m/s)^2) of the feet on the ground, summed."""
    return xp_of(snap.qpos).sum(task.planted_foot_speed(snap, state) ** 2, axis=-1)


def feet_clearance(task: Walk, snap: Snapshot, state: EpisodeState, action: Array) -> Array:
    """At each stride's touchdown (a swing of at least the shortest air time), how far its peak
    lift fell short of `clearance`, as a fraction of it: a shuffling stride costs up to 1, a
    clear one nothing, so no number of steps earns anything. A rate like `feet_air_time`."""
    xp = xp_of(snap.qpos)
    air = state.memory[..., _AIR]
    stride = task.step_touchdown(snap, air) & (air + task.dt >= task.config.air_time_range[0])
    lifted = xp.clip(state.memory[..., _SWING_PEAK] / task.config.clearance, 0.0, 1.0)
    paid = xp.sum(xp.where(stride, lifted - 1.0, 0.0), axis=-1)
    return xp.where(task.walking(task.command(state)), paid / task.dt, 0.0)


def arm_posture(task: Walk, snap: Snapshot, state: EpisodeState, action: Array) -> Array:
    """Squared offsets (rad^2) of the arm joints from the default pose, summed, in episodes
    where the policy moves the arms: arms held out cost."""
    xp = xp_of(snap.qpos)
    offsets = xp.sum(task.joint_offset(snap)[..., task.arm_index] ** 2, axis=-1)
    return xp.where(state.memory[..., _ARM_ON] > 0.5, 0.0, offsets)
