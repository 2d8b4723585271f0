"""FootballShoot: walk to a ball and kick it into a goal 5 m ahead (walk + step)."""

from __future__ import annotations

import dataclasses

import mujoco
import numpy as np

from skillgym.core.arrays import Array, norm, uniform, xp_of
from skillgym.core.snapshot import Snapshot
from skillgym.core.task import EpisodeState
from skillgym.tasks.base import BenchConfig, HumanoidBenchTask, bench_weights

GOAL_X = 5.0  # m from the robot's start to the goal line
GOAL_DEPTH = 0.6  # m from the goal line to the back of the net
GOAL_HALF_WIDTH = 0.75  # m, half the mouth between the posts
GOAL_HEIGHT = 1.0  # m, under the crossbar
BALL_RADIUS = 0.1


@dataclasses.dataclass(frozen=True)
class FootballShootConfig(BenchConfig):
    lateral_range: tuple[float, float] = (-0.5, 0.5)  # m, the goal's y relative to the robot
    ball_ahead_range: tuple[float, float] = (0.4, 0.7)  # m, the ball's start ahead of the robot
    ball_lateral_range: tuple[float, float] = (-0.15, 0.15)  # m, and to its side
    error_scale: float = 2.0
    approach_scale: float = 1.0


class FootballShoot(HumanoidBenchTask):
    name = "FootballShoot"
    props = (
        ("goal", "soccer_goal", (GOAL_X, 0.0, 0.0)),
        ("ball", "ball", (0.5, 0.0, BALL_RADIUS)),
    )
    goal_size = 2  # world xy of the goal mouth's centre
    goal_uniforms = 3
    metric_names = ("ball_goal_error",)
    success_rule = "ball crosses the goal line between the posts, under the bar, no fall"
    config: FootballShootConfig

    @classmethod
    def default_config(cls) -> FootballShootConfig:
        # Once in, the ball may roll through the (visual) net: crossing the line is the goal.
        return FootballShootConfig(
            episode_seconds=10.0, hold_seconds=0.0, reward_weights=bench_weights(accuracy=2.0)
        )

    def bind(self, model: mujoco.MjModel) -> None:
        super().bind(model)
        self.ball_dof = int(model.jnt_dofadr[model.body(self.prop_body["ball"]).jntadr[0]])

    def sample_episode(self, u: Array, qpos: Array) -> tuple[Array, Array]:
        xp = xp_of(u)
        robot_y = -uniform(u[..., 0], *self.config.lateral_range)
        ball = xp.stack(
            [
                uniform(u[..., 1], *self.config.ball_ahead_range),
                robot_y + uniform(u[..., 2], *self.config.ball_lateral_range),
                xp.full(u.shape[:-1], BALL_RADIUS),
            ],
            axis=-1,
        )
        qpos = self.place_prop(self.place_robot(qpos, robot_y), "ball", ball)
        return qpos, xp.asarray([GOAL_X, 0.0]) + xp.zeros(u.shape[:-1] + (2,))

    def ball(self, snap: Snapshot) -> Array:
        return self.prop_pos(snap, "ball")

    def error(self, snap: Snapshot, state: EpisodeState) -> Array:
        return norm(self.ball(snap)[..., :2] - state.goal)

    def reached(self, snap: Snapshot, state: EpisodeState) -> Array:
        xp = xp_of(snap.qpos)
        rel = self.ball(snap)[..., :2] - state.goal
        height = self.ball(snap)[..., 2]
        past_line = (rel[..., 0] > 0.0) & (rel[..., 0] < GOAL_DEPTH)
        return past_line & (xp.abs(rel[..., 1]) < GOAL_HALF_WIDTH) & (height < GOAL_HEIGHT)

    def feet(self, snap: Snapshot) -> Array:
        """World positions of the left and right foot, (..., 2, 3)."""
        return self.site_positions(snap, self.robot.foot_sites)

    def approach_distance(self, snap: Snapshot, state: EpisodeState) -> Array:
        to_ball = norm(self.feet(snap)[..., :2] - self.ball(snap)[..., None, :2])
        return xp_of(to_ball).min(to_ball, axis=-1)

    def goal_observation(self, snap: Snapshot, state: EpisodeState) -> Array:
        xp = xp_of(snap.qpos)
        goal = xp.concat([state.goal, xp.zeros_like(state.goal[..., :1])], axis=-1)
        ball_velocity = snap.qvel[..., self.ball_dof : self.ball_dof + 3]
        return xp.concat(
            [
                self.relative(snap, goal)[..., :2],
                self.relative(snap, self.ball(snap)),
                self.heading(snap, ball_velocity)[..., :2],
            ],
            axis=-1,
        )

    def skill_goals(self, snap: Snapshot, state: EpisodeState) -> dict[str, Array]:
        """Walk to a spot behind the ball on the line from the goal; step the right foot
        through the ball, the left foot beside it."""
        xp = xp_of(snap.qpos)
        ball = self.ball(snap)
        to_goal = state.goal - ball[..., :2]
        direction = to_goal / (norm(to_goal)[..., None] + 1e-9)
        behind = ball[..., :2] - 0.3 * direction
        beside = behind + 0.18 * xp.stack([-direction[..., 1], direction[..., 0]], axis=-1)
        behind = xp.concat([behind, xp.zeros_like(behind[..., :1])], axis=-1)
        return {
            "Walk": self.walk_goal(snap, behind, 0.0),
            "Step": self.step_goal(snap, xp.stack([beside, ball[..., :2]], axis=-2)),
        }

    def markers(self, data: mujoco.MjData, state: EpisodeState) -> np.ndarray:
        return np.array([[*np.asarray(state.goal), 0.02]])
