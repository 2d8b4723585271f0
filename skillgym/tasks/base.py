"""What the benchmark tasks share: one accuracy error per task (`ErrorScored`); the primitive
skills a high-level controller drives, with each one's observation laid out in the task's
(`ComposesSkills`); and for the humanoid's, props around the robot, placement at reset, and the
goals in each skill's layout.

Static props (walls, tables, cabinets) cannot move between episodes, so a reset varies the layout
by where it puts the robot (its root free joint) and the free objects.
"""

from __future__ import annotations

import dataclasses
from abc import abstractmethod
from typing import Any, ClassVar

import mujoco
import numpy as np

from skillgym.core.arrays import Array, free_pose, heading_unrotate, norm, put, put_free_pose, xp_of
from skillgym.core.rewards import distance_reward, goal_reached
from skillgym.core.robots import ArmConfig, HumanoidConfig
from skillgym.core.snapshot import Snapshot
from skillgym.core.task import EpisodeState, Task
from skillgym.skills.arm import ArmSkill, ArmTaskConfig
from skillgym.skills.arm_reach import ArmReach
from skillgym.skills.humanoid import (
    HumanoidSkill,
    HumanoidTaskConfig,
    humanoid_weights,
    velocity_and_contacts,
)
from skillgym.skills.lift import Lift
from skillgym.skills.reach import Reach, arm_reach, within_reach
from skillgym.skills.squat import Squat
from skillgym.skills.step import Step
from skillgym.skills.walk import Walk

Prop = tuple[str, str, tuple[float, float, float]]  # instance name, prop, position
# Where a skill's observation term lies in a task's observation: (term, start, size).
Slot = tuple[str, int, int]

# The humanoid skills a high-level controller composes, in the order it lists them.
HUMANOID_SKILLS: tuple[type[HumanoidSkill], ...] = (Walk, Reach, Squat, Step)

WALK_GAIN = 1.0  # command per metre (or radian) of remaining distance (or bearing)
HELD_CLEARANCE = 0.05  # m of air under an arm task's object: it is held


@dataclasses.dataclass(frozen=True)
class BenchConfig(HumanoidTaskConfig):
    tolerance: float = 0.05  # accuracy error (m or rad) that counts as the goal met
    error_scale: float = 0.3  # the accuracy reward halves (about) at this error
    approach_scale: float = 0.5  # the approach reward halves (about) at this distance


class ErrorScored(Task):
    """A task scored by one accuracy error: the error is its metric, and the goal is met while
    the error is within `config.tolerance`. List it before the robot family's base."""

    @abstractmethod
    def error(self, snap: Snapshot, state: EpisodeState) -> Array:
        """The headline accuracy error, 0 when the task is done exactly."""

    def metrics(self, snap: Snapshot, state: EpisodeState) -> Array:
        return self.error(snap, state)[..., None]

    def reached(self, snap: Snapshot, state: EpisodeState) -> Array:
        return self.error(snap, state) <= self.config.tolerance


class ComposesSkills(Task):
    """A task that primitive skills solve together: `skills` (name -> skill, bound to this
    task's scene), `skill_goals` its decomposition into their goals.

    Its observation holds everything the skills observe, so that a high-level controller that
    drives them is a function of it alone: after the task's own terms, for each skill the terms
    named in `skill_terms` as that skill computes them (`skill_goal/<Skill>` for the goal the
    decomposition gives it now, ...); `skill_slots` says where each skill's observation lies in
    it. List it first among the bases.
    """

    # The terms of a skill's observation that differ from the task's, each laid out per skill.
    skill_terms: ClassVar[tuple[str, ...]] = ("goal",)
    # Skills whose goal the decomposition fixes: a controller drives them but sets no goal.
    fixed_goals: ClassVar[tuple[str, ...]] = ()
    skills: dict[str, Task]

    def observation_terms(self, snap: Snapshot, state: EpisodeState) -> dict[str, Array]:
        terms = super().observation_terms(snap, state)
        goals = self.composed_goals(snap, state)
        for name, skill in self.skills.items():
            skill_state = state._replace(goal=goals[name])
            for term in self.skill_terms:
                observe = getattr(skill, f"{term}_observation")
                terms[f"skill_{term}/{name}"] = observe(snap, skill_state)
        return terms

    def observation_sources(self) -> dict[str, tuple[str, float, Any]]:
        per_skill = {
            f"skill_{term}/{name}": (f"skill_{term}", 1.0, 0.0)
            for name in self.skills
            for term in self.skill_terms
        }
        return {**super().observation_sources(), **per_skill}

    @abstractmethod
    def still_goals(self, snap: Snapshot) -> dict[str, Array]:
        """Every skill's goal to hold still (stand, keep the hand where it is)."""

    @abstractmethod
    def skill_goals(self, snap: Snapshot, state: EpisodeState) -> dict[str, Array]:
        """Skill name -> a goal in that primitive skill's own goal layout, for a high-level
        controller that blends the skills (or a scripted one that switches between them)."""

    def composed_goals(self, snap: Snapshot, state: EpisodeState) -> dict[str, Array]:
        """Every skill's goal now: the decomposition's (`skill_goals`) for the skills it uses,
        `still_goals` for the others."""
        return {**self.still_goals(snap), **self.skill_goals(snap, state)}

    def phase_slots(self, snap: Snapshot, state: EpisodeState) -> dict[str, tuple[int, int]]:
        """For each skill, where the decomposition's weights for it (`skill_phase/<Skill>`, one
        per actuator) lie in this task's observation, as (start, size); empty for a task whose
        decomposition has no phases (a controller then starts on its first skill)."""
        starts = self.observation_layout(snap, state)
        return {
            name: starts[f"skill_phase/{name}"]
            for name in self.skills
            if f"skill_phase/{name}" in starts
        }

    def skill_slots(self, snap: Snapshot, state: EpisodeState) -> dict[str, list[Slot]]:
        """For each skill, where the terms of its observation lie in this task's observation,
        in the skill's order: its `goal` term is `skill_goal/<Skill>`, where the decomposition's
        goal observation lies and where a controller puts its own. Sizes are the ones at
        `snap`, which do not change."""
        starts = self.observation_layout(snap, state)
        slots, goals = {}, self.composed_goals(snap, state)
        for name, skill in self.skills.items():
            terms = skill.observation_terms(snap, state._replace(goal=goals[name]))
            slots[name] = [
                (term, *starts[f"skill_{term}/{name}" if term in self.skill_terms else term])
                for term in terms
            ]
        return slots


class HumanoidBenchTask(ComposesSkills, ErrorScored, HumanoidSkill):
    """A long-horizon humanoid task: `error` is its accuracy, `skill_goals` its decomposition
    into the goals of Walk, Reach, Squat and Step."""

    props: ClassVar[tuple[Prop, ...]] = ()
    config: BenchConfig
    # Videos look from the robot's left side (the pressing hand's), following it: the props
    # ahead of it (a wall, a cabinet) would hide it from the robot's own camera, which looks
    # from the front.
    render_camera = "side"

    def __init__(self, robot: HumanoidConfig, config: BenchConfig | None = None) -> None:
        super().__init__(robot, config)
        self.skills = {skill.name: skill(robot) for skill in HUMANOID_SKILLS}

    def build_spec(self) -> mujoco.MjSpec:
        from skillgym.assets import add_prop

        spec = super().build_spec()
        for name, prop, pos in self.props:
            add_prop(spec, prop, name, pos=pos)
        root = spec.body(self.robot.pelvis_site)  # the robot's root body bears its name
        root.add_camera(
            name="side",
            mode=mujoco.mjtCamLight.mjCAMLIGHT_TRACKCOM,
            pos=[0.4, 3.2, 0.4],
            xyaxes=[-1.0, 0.0, 0.0, 0.0, -0.2, 0.98],
        )
        return spec

    def bind(self, model: mujoco.MjModel) -> None:
        super().bind(model)
        if model.jnt_type[0] != mujoco.mjtJoint.mjJNT_FREE:
            raise ValueError(f"{self.robot.name}: the first joint must be the root free joint")
        self.prop_body = {name: model.body(f"{name}/{prop}").id for name, prop, _ in self.props}
        self.prop_qpos = {
            name: int(model.jnt_qposadr[model.body(body).jntadr[0]])
            for name, body in self.prop_body.items()
            if model.body_jntnum[body] > 0
        }
        walk = Walk.default_config()
        self.walk_low, self.walk_high = np.array(walk.command_low), np.array(walk.command_high)
        reach = Reach.default_config()
        self.reach_half = reach.target_radius / np.sqrt(3)
        self.shoulders, self.max_reach = arm_reach(self, model, reach.reach_fraction)
        self.step_half = Step.default_config().target_radius / np.sqrt(2)
        for skill in self.skills.values():
            skill.bind(model)

    # ---- placement at reset --------------------------------------------------------------------

    def place_robot(self, qpos: Array, y: Array) -> Array:
        """qpos with the robot moved sideways to `y`, still at x = 0 and facing +x."""
        return put(qpos, 1, y)

    def place_prop(self, qpos: Array, name: str, xyz: Array, yaw: Array | None = None) -> Array:
        """qpos with the free prop `name` at `xyz`, turned by `yaw` (none: unturned)."""
        xp = xp_of(xyz)
        yaw = xp.zeros(xyz.shape[:-1]) if yaw is None else yaw
        return put_free_pose(qpos, self.prop_qpos[name], free_pose(xyz, yaw))

    # ---- quantities ----------------------------------------------------------------------------

    def prop_pos(self, snap: Snapshot, name: str) -> Array:
        return snap.xpos[..., self.prop_body[name], :]

    def wrists(self, snap: Snapshot) -> Array:
        """World positions of the left and right wrist, (..., 2, 3)."""
        return self.site_positions(snap, self.robot.wrist_sites)

    def hands_to(self, snap: Snapshot, point: Array) -> Array:
        """Mean distance of the two wrists to a world point."""
        xp = xp_of(point)
        return xp.mean(norm(self.wrists(snap) - point[..., None, :]), axis=-1)

    def side_points(
        self, snap: Snapshot, center: Array, half_width: float, raise_by: Array
    ) -> Array:
        """Left and right grasp points on an object's sides, across the robot's heading, raised by
        `raise_by`, (..., 2, 3): where two wrists squeeze an object held in front."""
        xp = xp_of(center)
        xmat = self.base_xmat(snap)
        lateral = xp.stack([-xmat[..., 3], xmat[..., 0]], axis=-1)  # heading's left, (..., 2)
        lateral = lateral / (norm(lateral)[..., None] + 1e-9)
        offset = xp.concat([half_width * lateral, raise_by[..., None]], axis=-1)
        return xp.stack([center + offset, center - offset * xp.asarray([1.0, 1.0, -1.0])], axis=-2)

    # ---- what the skills observe ---------------------------------------------------------------

    def estimated_terms(self, snap: Snapshot) -> dict[str, Array]:
        """What any humanoid skill observes beyond the IMU: the base velocity and foot contacts."""
        return velocity_and_contacts(self, snap)

    def still_goals(self, snap: Snapshot) -> dict[str, Array]:
        xp = xp_of(snap.qpos)
        standing = xp.full(snap.qpos.shape[:-1], self.robot.standing_height)
        return {
            "Walk": xp.zeros(snap.qpos.shape[:-1] + (3,)),
            "Reach": self.reach_goal(snap, self.wrists(snap)),
            "Squat": self.squat_goal(standing),
            "Step": self.step_goal(snap, self.site_positions(snap, self.robot.foot_sites)),
        }

    # ---- the task ------------------------------------------------------------------------------

    def dropped(self, snap: Snapshot, state: EpisodeState) -> Array:
        """True where an object is lost for good; nothing can be lost by default."""
        xp = xp_of(snap.qpos)
        return xp.zeros(snap.qpos.shape[:-1], dtype=xp.bool)

    def terminated(self, snap: Snapshot, state: EpisodeState) -> Array:
        return self.fallen(snap) | self.dropped(snap, state)

    @abstractmethod
    def approach_distance(self, snap: Snapshot, state: EpisodeState) -> Array:
        """How far the robot is from where it acts (a wrist from a button, the hands from a box):
        the dense shaping that gets it there before the error can move."""

    def skill_reward_terms(self) -> dict:
        return {"accuracy": accuracy, "approach": approach, "goal_reached": goal_reached}

    # ---- goals in the primitive skills' layouts ------------------------------------------------

    def walk_goal(
        self, snap: Snapshot, target: Array, stand_off: float, facing: Array | float | None = None
    ) -> Array:
        """Walk's (vx, vy, yaw rate): towards a world point until `stand_off` from it, turning
        to face it, or to the world heading `facing` (rad) where given; clipped to the commands
        Walk is trained on."""
        xp = xp_of(target)
        rel = self.relative(snap, target)[..., :2]
        distance = norm(rel)
        speed = WALK_GAIN * xp.clip(distance - stand_off, 0.0, None)
        velocity = speed[..., None] * rel / (distance[..., None] + 1e-9)
        bearing = xp.atan2(rel[..., 1], rel[..., 0])
        if facing is not None:
            xmat = self.base_xmat(snap)
            turn = facing - xp.atan2(xmat[..., 3], xmat[..., 0])
            bearing = xp.atan2(xp.sin(turn), xp.cos(turn))  # wrapped to [-pi, pi]
        yaw_rate = WALK_GAIN * bearing
        command = xp.concat([velocity, yaw_rate[..., None]], axis=-1)
        return xp.clip(command, xp.asarray(self.walk_low), xp.asarray(self.walk_high))

    def reach_goal(self, snap: Snapshot, targets: Array) -> Array:
        """Reach's goal: world targets (..., 2, 3) of the left and right wrist, as offsets from the
        pelvis in its heading frame, kept within the region Reach is trained on."""
        home = np.stack([self.home_local(site) for site in self.robot.wrist_sites])
        local = self._within(self.relative(snap, targets), home, self.reach_half)
        return _flat(within_reach(local, self.shoulders, self.max_reach))

    def step_goal(self, snap: Snapshot, targets: Array) -> Array:
        """Step's goal: world floor points (..., 2, 2+) for the left and right foot, kept within the
        region Step is trained on around the pelvis. Step holds its footholds in the world,
        relative to where its pelvis starts (the default pose's spot)."""
        xp = xp_of(targets)
        points = xp.concat([targets[..., :2], xp.zeros_like(targets[..., :1])], axis=-1)
        home = np.stack([self.home_local(site)[:2] for site in self.robot.foot_sites])
        local = self._within(self.relative(snap, points)[..., :2], home, self.step_half)
        pelvis = snap.site_xpos[..., None, self.pelvis, :2]
        world = pelvis + heading_unrotate(self.base_xmat(snap)[..., None, :], local)
        return _flat(world - xp.asarray(self.home_site_xpos[self.pelvis, :2]))

    def squat_goal(self, height: Array) -> Array:
        """Squat's goal: a pelvis height within the robot's squat range, (..., 1). Its top is the
        standing height, which a task may ask for (to stand up with a package); Squat's own
        episodes stop `SquatConfig.min_depth` short of it."""
        low, high = self.robot.squat_height_range
        return xp_of(height).clip(height, low, high)[..., None]

    @staticmethod
    def _within(local: Array, home: np.ndarray, half: float) -> Array:
        """Local targets (..., 2, d) clipped to a cube of half-size `half` around `home`."""
        xp = xp_of(local)
        return xp.asarray(home) + xp.clip(local - xp.asarray(home), -half, half)


def _flat(points: Array) -> Array:
    """Two points (..., 2, d) as a skill's (..., 2 d) goal."""
    return xp_of(points).reshape(points, points.shape[:-2] + (2 * points.shape[-1],))


def bench_weights(**task_terms: float) -> dict[str, float]:
    """Posture and effort weights, the shared task terms, and a task's own terms.

    A fall costs 500 x dt (10 at 50 Hz): at the skills' 100 x dt a controller gained more
    accuracy reward by lunging at its target than the fall took back (docs/composition.md)."""
    return humanoid_weights(
        **{"fall": -500.0, "accuracy": 3.0, "approach": 1.0, "goal_reached": 2.0, **task_terms}
    )


def accuracy(task: HumanoidBenchTask, snap: Snapshot, state: EpisodeState, action: Array) -> Array:
    return distance_reward(task.error(snap, state), task.config.error_scale)


def approach(task: HumanoidBenchTask, snap: Snapshot, state: EpisodeState, action: Array) -> Array:
    return distance_reward(task.approach_distance(snap, state), task.config.approach_scale)


class ArmBenchTask(ComposesSkills, ErrorScored, ArmSkill):
    """A long-horizon arm task about its one object: `error` is its accuracy, `skill_goals` its
    decomposition into the goals of the arm skills in `composes`.

    Each skill observes this task's object wherever it observes one of its own (Lift's small
    box and flat box alike are the task's object), so its object features are laid out per
    skill (`skill_object/<Skill>`) beside its goal. The decomposition has phases too: which
    skill drives each actuator now (`phase_weights`, laid out as `skill_phase/<Skill>`).
    """

    composes: ClassVar[tuple[type[ArmSkill], ...]] = (Lift, ArmReach)
    skill_terms = ("goal", "object")
    # Lift's goal names the object and the one height it lifts to (`lift_goal`); off those
    # values it fails: of PushGraspLift's boxes it lifts 80% asked for 10 cm, 20% asked for
    # 11 cm, 30% with its object one-hot moved 0.1 off its values, 2% moved 0.25.
    fixed_goals = ("Lift",)
    config: ArmTaskConfig

    def __init__(self, robot: ArmConfig, config: ArmTaskConfig | None = None) -> None:
        super().__init__(robot, config)
        if len(self.objects) != 1:
            raise ValueError(f"{self.name}: an arm bench task is about one object")
        self.skills = {}
        for skill_type in self.composes:
            skill = skill_type(robot)
            skill.objects = self.objects * len(skill_type.objects)
            self.skills[skill.name] = skill

    def bind(self, model: mujoco.MjModel) -> None:
        super().bind(model)
        for skill in self.skills.values():
            skill.bind(model)

    def lift_goal(self, snap: Snapshot) -> Array:
        """Lift's goal: the one lift height it is trained on, and its one-hot of this task's
        object. Lift's goal names the object; taking it higher is another skill's work."""
        xp = xp_of(snap.qpos)
        prop = self.objects[0][1]
        goal = [Lift.default_config().lift_height, *(float(own == prop) for _, own in Lift.objects)]
        return xp.asarray(goal) + xp.zeros(snap.qpos.shape[:-1] + (1,))

    def held(self, snap: Snapshot, state: EpisodeState) -> Array:
        """True where the object's lowest corner is `HELD_CLEARANCE` clear of the table."""
        lift = self.skills["Lift"]
        return lift.clearance(snap, state._replace(goal=self.lift_goal(snap))) > HELD_CLEARANCE

    def observation_terms(self, snap: Snapshot, state: EpisodeState) -> dict[str, Array]:
        terms = super().observation_terms(snap, state)
        phases = self.phase_weights(snap, state)
        for k, name in enumerate(self.skills):
            terms[f"skill_phase/{name}"] = phases[..., k, :]
        return terms

    def observation_sources(self) -> dict[str, tuple[str, float, Any]]:
        phases = {f"skill_phase/{name}": ("skill_phase", 1.0, 0.0) for name in self.skills}
        return {**super().observation_sources(), **phases}

    def phase_weights(self, snap: Snapshot, state: EpisodeState) -> Array:
        """The decomposition's phases as one-hot weights over the skills for each actuator,
        (..., skills, actuators): Lift drives everything until the object is held, then Reach
        takes the hand there (`carry_actuators`) while Lift's wrist and gripper keep the grasp."""
        xp = xp_of(snap.qpos)
        names = list(self.skills)
        carry = xp.asarray(np.arange(len(self.action_scale)) < self.robot.carry_actuators)
        reach = self.held(snap, state)[..., None] & carry
        rows = {"Lift": ~reach, "Reach": reach}
        return xp.astype(xp.stack([rows[name] for name in names], axis=-2), snap.qpos.dtype)

    def still_goals(self, snap: Snapshot) -> dict[str, Array]:
        """Reach holds the gripper where it is; Lift lifts (the only goal it knows)."""
        goals = {"Reach": self.grip_pos(snap), "Lift": self.lift_goal(snap)}
        return {name: goals[name] for name in self.skills}
