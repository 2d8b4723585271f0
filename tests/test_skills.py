"""The starter skills: goals, success rules and rewards that point the right way."""

import warnings

import gymnasium as gym
import numpy as np
import pytest
from conftest import HUMANOIDS, make_vec

from skillgym import evaluation
from skillgym.envs.vector import finished_episodes
from skillgym.evaluation import evaluate
from skillgym.policies.scripted import (
    ArmFlatBoxIK,
    ArmLiftIK,
    ArmPushIK,
    ArmReachIK,
    HumanoidSquat,
    RandomPolicy,
    ZeroPolicy,
)
from skillgym.skills.site_targets import hold_targets


def run_episodes(env, policy, episodes: int, seed: int = 0):
    """Finished-episode records of a batched env under a policy."""
    obs, _ = env.reset(seed=seed)
    records = []
    while len(records) < episodes:
        obs, _, _, _, info = env.step(policy(obs))
        finished, ended = finished_episodes(info, env.num_envs)
        for i in np.flatnonzero(ended):
            records.append({k: v[i] for k, v in finished.items()})
    return records


def test_inverse_kinematics_solves_arm_reach_and_earns_more_than_standing_still():
    env = make_vec("skillgym/Arm7-Reach-v0", num_envs=8)
    solved = run_episodes(env, ArmReachIK(env), 8)
    idle = run_episodes(env, ZeroPolicy(env), 8)
    assert np.mean([r["success"] for r in solved]) >= 0.9
    assert np.mean([r["grip_error"] for r in solved]) < 0.03
    assert np.mean([r["r"] for r in solved]) > np.mean([r["r"] for r in idle])
    assert not any(r["success"] for r in idle)


def test_scripted_pushing_brings_the_box_to_its_goal_in_most_episodes():
    scripted = evaluate("skillgym/Arm7-Push-v0", ArmPushIK, episodes=16)
    assert scripted["success_rate"] >= 0.6  # 0.88 over 100 episodes
    idle = evaluate("skillgym/Arm7-Push-v0", ZeroPolicy, episodes=16)
    assert idle["success_rate"] == 0.0  # every goal lies 0.1 m or more from the box
    assert scripted["metrics"]["episode_return"] > 2 * idle["metrics"]["episode_return"]


def test_scripted_lifting_rolls_the_flat_box_onto_its_side_and_lifts_both_boxes():
    """The flat box lying flat is wider than the jaw opens: rolled over a long edge first, it
    stands 6 cm thick, which a top grasp with the jaw turned across it spans."""
    env = make_vec("skillgym/Arm7-Lift-v0", num_envs=16)
    flat, stood = [], np.zeros(16, dtype=bool)

    def note_objects(step, scored):
        if step == 0:
            flat.extend(np.asarray(env.episode_state.goal)[:, 2] > 0.5)
        box_axes = np.asarray(env.snapshot().site_xmat)[:, env.task.centers[env.task.flat]]
        stood[~scored] |= np.abs(box_axes[~scored, 7]) > 0.95  # its 10 cm axis vertical

    records = evaluation.run_episodes(env, ArmLiftIK(env), seed=0, on_step=note_objects)
    flat = np.array(flat)
    assert 4 <= flat.sum() <= 12
    assert records["success"][~flat].mean() >= 0.9
    assert stood[flat].mean() >= 0.75  # 0.95 and 0.94 over 64 flat boxes from seeds 0 and 1
    assert records["success"][flat].mean() >= 0.5  # 0.72 and 0.83 over the same


@pytest.mark.parametrize(
    ("env_id", "at_least"),
    [("skillgym/Arm7-PushGraspLift-v0", 0.6), ("skillgym/Arm7-PivotGrasp-v0", 0.5)],
)
def test_scripted_flat_box_controller_carries_the_box_onto_its_goal_in_the_air(env_id, at_least):
    """Rolled onto its side, grasped from above and carried: 0.88 and 0.71 over 100 episodes."""
    scripted = evaluate(env_id, ArmFlatBoxIK, episodes=16)
    assert scripted["success_rate"] >= at_least
    assert (
        scripted["metrics"]["box_goal_error"]
        < evaluate(env_id, ZeroPolicy, episodes=16)["metrics"]["box_goal_error"]
    )


@pytest.mark.parametrize("robot", HUMANOIDS)
def test_pose_interpolation_solves_squat_on_every_humanoid(robot):
    env_id = f"skillgym/{robot.capitalize()}-Squat-v0"
    scripted = evaluate(env_id, HumanoidSquat, episodes=16)
    # A fall after reaching the height is a failure; pose interpolation loses its balance in
    # some of tall19's deepest squats (about 1 in 4 over 32 episodes).
    assert scripted["success_rate"] >= 0.6
    idle = evaluate(env_id, ZeroPolicy, episodes=16)
    assert scripted["metrics"]["episode_return"] > idle["metrics"]["episode_return"]


def test_walk_success_needs_the_full_ten_seconds():
    env = make_vec("skillgym/Tall19-Walk-v0", num_envs=4)
    assert env.task.episode_steps == 500
    obs, _ = env.reset(seed=0)
    for _ in range(499):
        obs, _, terminated, _, info = env.step(np.zeros((4, 19)))
        assert not info["success"].any()


def test_walk_observes_its_command_then_the_base_velocity_it_is_scored_on():
    env = make_vec("skillgym/Tall19-Walk-v0", num_envs=2)
    env.reset(seed=0)
    obs, *_ = env.step(np.full((2, 19), 0.3))
    velocity = env.task.base_lin_vel(env.physics.snapshot())
    assert np.abs(velocity).max() > 0.01  # the robot moved, so the check below can fail
    np.testing.assert_allclose(obs[:, :3], env.episode_state.goal, rtol=1e-6)
    np.testing.assert_allclose(obs[:, 3:6], velocity, rtol=1e-5, atol=1e-6)


def test_step_observes_its_foot_errors_then_the_base_velocity_and_which_feet_stand():
    env = make_vec("skillgym/Tall19-Step-v0", num_envs=2)
    env.reset(seed=0)
    obs, *_ = env.step(np.full((2, 19), 0.3))
    snap = env.physics.snapshot()
    velocity = env.task.base_lin_vel(snap)
    standing = env.task.foot_contact(snap)
    assert np.abs(velocity).max() > 0.01  # the robot moved, so the check below can fail
    assert obs.shape == (2, 72)
    np.testing.assert_allclose(obs[:, 4:7], velocity, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(obs[:, 7:9], standing.astype(np.float32))


def test_a_reward_term_left_without_a_weight_is_warned_about():
    from skillgym.core.robots import tall19
    from skillgym.skills.walk import Walk, WalkConfig

    with pytest.warns(UserWarning, match=r"reward terms \[.*'posture'.*\] have no weight"):
        Walk(tall19.CONFIG, WalkConfig(reward_weights={"track_velocity": 1.0}))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        Walk(tall19.CONFIG)  # the default config weighs every term


@pytest.mark.filterwarnings("ignore:.*have no weight")  # only the tracking term counts here
def test_standing_still_tracks_a_zero_walk_command_yet_standing_is_no_walk_success():
    from skillgym.skills.walk import WalkConfig

    config = WalkConfig(
        episode_seconds=10.0,
        command_low=(0.0, 0.0, 0.0),
        command_high=(0.0, 0.0, 0.0),
        min_command_speed=0.0,
        reward_weights={"track_velocity": 1.0},
    )
    env = gym.make_vec(
        "skillgym/Tall19-Walk-v0",
        num_envs=2,
        vectorization_mode="vector_entry_point",
        config=config,
    )
    records = run_episodes(env, ZeroPolicy(env), 2)
    assert all(r["l"] == 500 and r["velocity_error"] < 0.05 for r in records)
    assert not any(r["success"] for r in records)


def test_walk_commands_all_move_and_span_the_command_ranges(rng):
    task = make_vec("skillgym/Tall19-Walk-v0", num_envs=1).task
    goals = task.sample_reset(rng.random((4096, task.reset_uniforms))).goal
    assert np.linalg.norm(goals[:, :2], axis=-1).min() >= task.config.min_command_speed - 1e-9
    low, high = np.array(task.config.command_low), np.array(task.config.command_high)
    assert (goals >= low - 1e-9).all() and (goals <= high + 1e-9).all()
    assert (goals.max(axis=0) - goals.min(axis=0) > 0.95 * (high - low)).all()
    assert 0.1 < (goals[:, 0] < 0.0).mean() < 0.4  # backwards too, a quarter of the time


def test_walk_success_needs_the_velocity_and_the_heading_s_turning_rate_tracked():
    env = make_vec("skillgym/Tall19-Walk-v0", num_envs=1)
    env.reset(seed=0)
    env.step(np.zeros((1, 19)))
    task, snap, state = env.task, env.snapshot(), env.episode_state
    seconds = task.episode_steps * task.dt

    def succeeds(goal, velocity_error: float, yaw_rate_error: float, steps: int = 500) -> bool:
        """After `steps` with these mean errors of the planar velocity and the yaw rate."""
        memory = state.memory.copy()
        memory[:, 2] = yaw_rate_error * seconds
        metric_sums = state.metric_sums.copy()
        metric_sums[:, 0] = velocity_error * task.episode_steps
        walked = state._replace(
            goal=np.array([goal]), steps=np.array([steps]), metric_sums=metric_sums, memory=memory
        )
        return bool(task.success(walked)[0])

    walk = [0.5, 0.1, 0.3]
    assert succeeds(walk, 0.2, 0.08) and succeeds(walk, 0.2, -0.08)
    assert not succeeds(walk, 0.2, 0.08, steps=499)  # not yet the whole episode
    assert not succeeds(walk, 0.3, 0.0)  # the velocity not tracked
    assert not succeeds(walk, 0.2, 0.12) and not succeeds(walk, 0.2, -0.12)  # nor the turning
    assert not succeeds([0.05, 0.0, 0.3], 0.0, 0.0)  # a command to stand: no walk
    # The heading error integrates the yaw rate's error over the episode.
    before = state.memory.copy()
    before[:, 2] = 0.2
    memory = np.asarray(task.update_memory(snap, state._replace(memory=before)))
    turned = np.asarray(task.base_ang_vel(snap))[:, 2] - np.asarray(state.goal)[:, 2]
    np.testing.assert_allclose(memory[:, 2], 0.2 + task.dt * turned)


@pytest.mark.parametrize("robot", HUMANOIDS)
def test_squat_targets_lie_clearly_below_standing(robot, rng):
    task = make_vec(f"skillgym/{robot.capitalize()}-Squat-v0", num_envs=1).task
    targets = task.sample_reset(rng.random((1024, task.reset_uniforms))).goal[:, 0]
    low, top = task.robot.squat_height_range[0], task.robot.standing_height - 0.1
    assert targets.min() >= low and targets.max() <= top + 1e-9
    assert targets.max() - targets.min() > 0.95 * (top - low)


def test_push_goals_lie_0_1_to_0_2_m_from_the_box_inside_the_table_region(rng):
    task = make_vec("skillgym/Arm7-Push-v0", num_envs=1).task
    sample = task.sample_reset(rng.random((4096, task.reset_uniforms)))
    start = sample.qpos[:, task.object_qpos[0] : task.object_qpos[0] + 2]
    distance = np.linalg.norm(sample.goal - start, axis=-1)
    assert distance.min() >= 0.1 - 1e-9 and distance.max() <= 0.2 + 1e-9
    low, high = np.array(task.robot.table_region_low), np.array(task.robot.table_region_high)
    assert (sample.goal >= low - 1e-9).all() and (sample.goal <= high + 1e-9).all()


@pytest.mark.parametrize("robot", HUMANOIDS)
def test_step_puts_a_foot_target_at_least_0_1_m_from_where_its_foot_stands(robot, rng):
    task = make_vec(f"skillgym/{robot.capitalize()}-Step-v0", num_envs=1).task
    goals = task.sample_reset(rng.random((4096, task.reset_uniforms))).goal
    distances = np.linalg.norm((goals - task.home_targets).reshape(-1, 2, 2), axis=-1)
    assert distances.max(axis=-1).min() >= 0.1 - 1e-9
    assert distances.max() <= task.config.target_radius + 1e-9


def standing_after_one_step(env_id: str):
    """A humanoid env's task, frame and episode state one step into an episode, feet down."""
    env = make_vec(env_id, num_envs=1)
    env.reset(seed=0)
    env.step(np.zeros((1, 19)))
    task, snap, state = env.task, env.physics.snapshot(), env.episode_state
    assert task.foot_contact(snap).all()  # standing: both feet down
    return task, snap, state


def test_walk_pays_for_strides_at_touchdown_and_charges_for_taps():
    from skillgym.skills.walk import feet_air_time

    task, snap, state = standing_after_one_step("skillgym/Tall19-Walk-v0")
    walking = state._replace(goal=np.array([[0.5, 0.0, 0.0]]))

    def paid(left_air: float, episode=walking, right_air: float = 0.0) -> float:
        """What a touchdown now pays after the left foot swung `left_air` seconds."""
        memory = state.memory.copy()
        memory[:, :2] = left_air, right_air
        return float(feet_air_time(task, snap, episode._replace(memory=memory), None)[0])

    assert paid(0.0) == 0.0  # no foot came down
    assert paid(0.4) > 0.0  # a stride
    assert paid(0.04) < 0.0  # a tap
    assert paid(2.0) == paid(0.6)  # a long flight pays no more than the longest stride
    assert paid(0.4, walking._replace(goal=np.zeros((1, 3)))) == 0.0  # told to stand
    assert paid(0.4, right_air=0.4) == 0.0  # both feet came down: a hop, not a step
    np.testing.assert_array_equal(
        task.update_memory(snap, walking._replace(memory=np.ones_like(state.memory)))[:, :2], 0.0
    )


def test_walk_charges_every_second_a_foot_stays_up_longer_than_a_stride():
    from skillgym.skills.walk import feet_air_too_long

    task, snap, state = standing_after_one_step("skillgym/Tall19-Walk-v0")
    longest = task.config.air_time_range[1]

    def charged(left_air: float, right_air: float = 0.0, command=(0.5, 0.0, 0.0)) -> float:
        memory = state.memory.copy()
        memory[:, :2] = left_air, right_air
        episode = state._replace(memory=memory, goal=np.array([command]))
        return float(feet_air_too_long(task, snap, episode, None)[0])

    assert charged(0.0) == 0.0 and charged(longest) == 0.0  # standing, and the longest stride
    assert charged(longest + 0.1) == 1.0  # hopping on the right foot
    assert charged(3.0, command=(0.0, 0.0, 0.0)) == 1.0  # a foot held up while told to stand
    assert charged(1.0, 1.0) == 2.0  # both up: in the air or in a harness


def test_walk_arm_motion_moves_the_arms_its_weight_of_the_way_from_the_policys_actions():
    from skillgym.envs.registry import task_config

    env_id = "skillgym/Tall19-Walk-v0"

    def applied(weight: float, motion: float = 1.0) -> np.ndarray:
        """The applied action for a policy action of 0.3 everywhere, past the fade-in."""
        config = task_config(env_id, {"arm_motion": motion, "arm_motion_weight": weight})
        env = make_vec(env_id, num_envs=1, config=config)
        env.reset(seed=0)
        for _ in range(60):
            env.step(np.zeros((1, 19)))
        return env.task.applied_action(np.full((1, 19), 0.3), env.episode_state)

    arms = make_vec(env_id, num_envs=1).task.arm_index
    legs = np.setdiff1d(np.arange(19), arms)
    full, half, off = applied(1.0), applied(0.5), applied(1.0, motion=0.0)
    motion = full[0, arms]
    assert not np.allclose(motion, 0.3)  # the arms follow their own targets
    np.testing.assert_allclose(half[0, arms], 0.3 + 0.5 * (motion - 0.3))
    np.testing.assert_allclose(half[0, legs], 0.3)  # the legs stay the policy's
    np.testing.assert_allclose(off, 0.3)  # episodes without the motion: the policy's own


def test_step_pays_for_a_landing_nearer_its_target_than_any_before():
    from skillgym.skills.step import step_progress

    task, snap, state = standing_after_one_step("skillgym/Tall19-Step-v0")
    left, right = task.distances(snap, state)[0]

    def paid(left_air: float, nearest: float, right_air: float = 0.0) -> float:
        """What landing now pays after the left foot swung `left_air` seconds, when it had
        landed at best `nearest` metres from its target."""
        memory = np.array([[left_air, right_air, nearest, right]])
        return float(step_progress(task, snap, state._replace(memory=memory), None)[0])

    assert paid(0.0, left + 0.1) == 0.0  # no foot came down
    assert paid(0.3, left + 0.1) == pytest.approx(0.1 / task.dt)  # a record by 10 cm
    assert paid(0.3, left - 0.1) == 0.0  # landed farther: no record, and no cost
    assert paid(0.3, left + 0.1, right_air=0.3) == 0.0  # both feet came down: a hop

    def remembered(memory: list[float]) -> list[float]:
        return task.update_memory(snap, state._replace(memory=np.array([memory])))[0].tolist()

    # The left foot's step lands: a record is kept, a worse landing is not.
    assert remembered([0.3, 0.0, 1.0, 1.0]) == pytest.approx([0.0, 0.0, left, 1.0])
    assert remembered([0.3, 0.0, 0.01, 1.0]) == pytest.approx([0.0, 0.0, 0.01, 1.0])
    # A hop renews neither; the episode's start (nothing remembered yet) sets both.
    assert remembered([0.3, 0.3, 1.0, 1.0]) == pytest.approx([0.0, 0.0, 1.0, 1.0])
    assert remembered([0.0, 0.0, 0.0, 0.0]) == pytest.approx([0.0, 0.0, left, right])


def test_step_counts_a_foot_as_placed_only_while_it_touches_the_ground():
    task, snap, state = standing_after_one_step("skillgym/Tall19-Step-v0")
    errors = task.site_errors(snap, state).reshape(1, 4)
    on_the_spot = state._replace(goal=state.goal - errors)  # targets under the feet
    assert task.distances(snap, on_the_spot).max() < 0.01
    assert task.reached(snap, on_the_spot).all()
    assert hold_targets(task, snap, on_the_spot, None).min() > 0.7
    lifted = np.array(snap.sensordata)
    lifted[:, task.touch[0]] = 0.0  # the left foot's touch sensor reads nothing
    in_the_air = snap._replace(sensordata=lifted)
    assert not task.reached(in_the_air, on_the_spot).any()
    assert (hold_targets(task, in_the_air, on_the_spot, None) == 0.0).all()


def test_random_actions_make_humanoids_fall_and_falls_terminate():
    env = make_vec("skillgym/Tall19-Step-v0", num_envs=4)
    records = run_episodes(env, RandomPolicy(env), 4)
    assert any(r["l"] < env.task.episode_steps for r in records)
    assert not any(r["success"] for r in records)


@pytest.mark.parametrize("env_id", ["skillgym/Tall19-Reach-v0", "skillgym/Tall19-Step-v0"])
def test_targets_lie_within_a_quarter_metre_of_the_default_sites(env_id):
    env = make_vec(env_id, num_envs=64)
    env.reset(seed=0)
    task = env.task
    goals = np.asarray(env.episode_state.goal).reshape(64, 2, task.dims)
    home = task.home_targets.reshape(2, task.dims)
    assert np.linalg.norm(goals - home, axis=-1).max() <= 0.25 + 1e-9


@pytest.mark.parametrize("robot", HUMANOIDS)
def test_reach_targets_lie_within_the_arms_reach_of_the_shoulders(robot):
    env = make_vec(f"skillgym/{robot.capitalize()}-Reach-v0", num_envs=256)
    env.reset(seed=0)
    task = env.task
    goals = np.asarray(env.episode_state.goal).reshape(256, 2, 3)
    from_shoulder = np.linalg.norm(goals - task.shoulders, axis=-1)
    assert (from_shoulder <= task.max_reach + 1e-9).all()
    # The default pose holds the arms nearly straight, so the limit binds on many targets.
    assert (
        task.max_reach < np.linalg.norm(task.home_targets.reshape(2, 3) - task.shoulders, axis=-1)
    ).all()
    assert np.isclose(from_shoulder, task.max_reach).mean() > 0.2


def shifted_goal_errors(env_id: str, shift: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A skill's goal observation at reset, and after the whole robot is moved by `shift`."""
    env = make_vec(env_id, num_envs=1)
    env.reset(seed=0)
    task = env.task
    snap = env.physics.snapshot()
    moved = snap._replace(site_xpos=snap.site_xpos + shift)
    return np.asarray(task.goal_observation(snap, env.episode_state)), np.asarray(
        task.goal_observation(moved, env.episode_state)
    )


def test_step_targets_stay_on_the_floor_where_they_were_put():
    before, after = shifted_goal_errors("skillgym/Tall19-Step-v0", np.array([0.1, -0.05, 0.0]))
    assert np.allclose(after - before, np.tile([-0.1, 0.05], 2))


def test_reach_targets_move_with_the_body():
    before, after = shifted_goal_errors("skillgym/Tall19-Reach-v0", np.array([0.1, -0.05, 0.0]))
    assert np.allclose(after, before)


def test_lift_puts_the_flat_box_on_the_table_in_about_half_the_episodes():
    env = make_vec("skillgym/Arm7-Lift-v0", num_envs=64)
    env.reset(seed=0)
    task = env.task
    flat = np.asarray(env.episode_state.goal)[:, 2] == 1
    assert 0.3 < flat.mean() < 0.7
    snap = env.physics.snapshot()
    heights = task.active_object_pos(snap, env.episode_state)[:, 2]
    assert np.allclose(heights, task.robot.table_height + np.where(flat, 0.03, 0.025), atol=0.005)


def first_flat_box_episode():
    """Lift's task, frame and episode state of one episode that starts with the flat box."""
    env = make_vec("skillgym/Arm7-Lift-v0", num_envs=64)
    env.reset(seed=0)
    task, state = env.task, env.episode_state
    flat = np.flatnonzero(np.asarray(state.goal)[:, 2] == 1)[:1]
    state = type(state)(*(np.asarray(x)[flat] for x in state))
    snap = env.physics.snapshot()
    return task, type(snap)(*(np.asarray(x)[flat] for x in snap)), state


def test_lift_pays_for_a_lifted_box_and_not_for_one_stood_on_end():
    from skillgym.skills.lift import lift

    task, snap, state = first_flat_box_episode()
    center = task.centers[1]

    def paid(long_axis_up: bool, centre_height: float) -> float:
        xmat, xpos = np.array(snap.site_xmat), np.array(snap.site_xpos)
        xmat[:, center] = [0, 0, 1, 0, 1, 0, -1, 0, 0] if long_axis_up else np.eye(3).ravel()
        xpos[:, center, 2] = task.robot.table_height + centre_height
        moved = snap._replace(site_xmat=xmat, site_xpos=xpos)
        return float(lift(task, moved, state, None)[0])

    assert paid(False, 0.03) == pytest.approx(0.0)  # lying flat on the table
    assert paid(True, 0.075) == pytest.approx(0.0)  # stood on end: centre up 4.5 cm, not lifted
    assert paid(False, 0.03 + task.config.lift_height) == pytest.approx(1.0)
    assert paid(True, 0.075 + task.config.lift_height / 2) == pytest.approx(0.5)


def test_jaw_fits_pays_for_a_jaw_turned_to_span_the_flat_box_and_only_near_it():
    from skillgym.skills.lift import jaw_fits

    task, snap, state = first_flat_box_episode()
    box = np.asarray(snap.site_xmat)[0, task.centers[1]].reshape(3, 3)

    def paid(jaw_axis: np.ndarray, offset: float = 0.0) -> float:
        """With the grip `offset` m above the box centre and its jaw (the hand's y axis, all
        that the term reads of the hand's orientation) along a box axis."""
        hand = box.copy()
        hand[:, 1] = jaw_axis
        xmat, xpos = np.array(snap.site_xmat), np.array(snap.site_xpos)
        xmat[:, task.grip] = hand.ravel()
        xpos[:, task.grip] = xpos[:, task.centers[1]] + [0.0, 0.0, offset]
        moved = snap._replace(site_xmat=xmat, site_xpos=xpos)
        return float(jaw_fits(task, moved, state, None)[0])

    vertical, across_10cm, along_15cm = paid(box[:, 2]), paid(box[:, 1]), paid(box[:, 0])
    assert vertical == pytest.approx(1.0)  # a vertical jaw spans its 6 cm
    assert along_15cm < across_10cm < 0.8  # lying flat, it is wider than the jaw opens
    assert along_15cm > 0.3  # the turn towards a fit pays from the worst orientation on
    assert paid(box[:, 2], offset=0.3) < 0.01  # paid near the box only


def test_lift_observes_the_object_in_the_hand_frame():
    task, snap, state = first_flat_box_episode()
    hand = np.asarray(snap.site_xmat)[0, task.grip].reshape(3, 3)
    quarter_turn_about_z = np.array([[0.0, -1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
    offset_in_hand = np.array([0.01, 0.02, 0.03])
    xmat, xpos = np.array(snap.site_xmat), np.array(snap.xpos)
    xmat[:, task.centers[1]] = (hand @ quarter_turn_about_z).ravel()
    xpos[:, task.object_body[1]] = np.asarray(snap.site_xpos)[:, task.grip] + hand @ offset_in_hand
    observed = task.object_observation(snap._replace(site_xmat=xmat, xpos=xpos), state)[0]
    np.testing.assert_allclose(observed[-12:-9], offset_in_hand, atol=1e-6)
    np.testing.assert_allclose(observed[-9:], quarter_turn_about_z.ravel(), atol=1e-6)


def test_push_reward_grows_as_the_box_nears_its_goal():
    env = make_vec("skillgym/Arm7-Push-v0", num_envs=1)
    env.reset(seed=0)
    task, state = env.task, env.episode_state
    snap = env.physics.snapshot()
    near = state._replace(goal=np.asarray(task.object_pos(snap)[:, :2]) + 0.01)
    far = state._replace(goal=np.asarray(task.object_pos(snap)[:, :2]) + 0.2)
    action = np.zeros((1, 8))
    assert task.advance(snap, near, action).reward[0] > task.advance(snap, far, action).reward[0]
    assert task.reached(snap, near)[0] and not task.reached(snap, far)[0]


@pytest.mark.parametrize("env_id", ["skillgym/Arm7-Push-v0", "skillgym/Arm7-Lift-v0"])
def test_reach_object_pulls_the_gripper_from_where_episodes_start(env_id):
    from skillgym.skills.arm import reach_object

    env = make_vec(env_id, num_envs=16)
    env.reset(seed=0)
    task, state, snap = env.task, env.episode_state, env.physics.snapshot()
    grip = np.asarray(task.grip_pos(snap))
    gap = np.asarray(task.active_object_pos(snap, state)) - grip
    distance = np.linalg.norm(gap, axis=-1)
    assert np.all((distance > 0.15) & (distance < 0.5))
    # The gripper 5 cm nearer its object earns clearly more, at every start.
    site_xpos = np.array(snap.site_xpos)
    site_xpos[:, task.grip] += 0.05 * gap / distance[:, None]
    nearer = snap._replace(site_xpos=site_xpos)
    gain = reach_object(task, nearer, state, None) - reach_object(task, snap, state, None)
    assert np.all(gain > 0.02)


def test_reward_kernel_widths_are_number_settings_of_the_skill_config():
    from skillgym.envs.registry import task_config
    from skillgym.skills.squat import track_height

    env_id = "skillgym/Tall19-Squat-v0"
    env = make_vec(env_id, num_envs=4)
    env.reset(seed=0)
    task, snap, state = env.task, env.snapshot(), env.episode_state
    wide = type(task)(task.robot, task_config(env_id, {"height_sigma": 0.05}))
    wide.bind(env.model)
    # The same height errors pay more under the wider kernel.
    assert (track_height(wide, snap, state, None) > track_height(task, snap, state, None)).all()


def test_walk_training_commands_change_by_segment_and_some_ask_to_stand():
    from skillgym.envs.registry import task_config

    config = task_config(
        "skillgym/Tall19-Walk-v0", {"command_seconds": 0.1, "stand_probability": 1.0}
    )
    env = make_vec("skillgym/Tall19-Walk-v0", num_envs=3, config=config)
    obs, _ = env.reset(seed=0)
    first = obs[:, :3].copy()
    np.testing.assert_allclose(first, env.episode_state.goal, rtol=1e-6)
    assert (np.linalg.norm(first[:, :2], axis=-1) >= 0.3 - 1e-6).all()
    for _ in range(5):  # 0.1 s: the second segment starts
        obs, *_ = env.step(np.zeros((3, 19)))
    stopped = obs[:, :2]
    np.testing.assert_array_equal(stopped, 0.0)  # told to stop: stand still or turn in place
    plain = make_vec("skillgym/Tall19-Walk-v0", num_envs=3)
    obs, _ = plain.reset(seed=0)
    for _ in range(5):
        obs, *_ = plain.step(np.zeros((3, 19)))
    np.testing.assert_allclose(obs[:, :3], plain.episode_state.goal, rtol=1e-6)  # one command


def test_a_walk_that_stops_when_told_succeeds_by_how_it_tracked_every_segment():
    """With command segments, an episode ending in a stop is the walk its first command asked
    for: a curriculum gated on success can still be passed."""
    from skillgym.envs.registry import task_config

    config = task_config(
        "skillgym/Tall19-Walk-v0", {"command_seconds": 0.1, "stand_probability": 1.0}
    )
    env = make_vec("skillgym/Tall19-Walk-v0", num_envs=1, config=config)
    env.reset(seed=0)
    task, state = env.task, env.episode_state
    ended = state._replace(steps=np.array([task.episode_steps]))
    assert np.linalg.norm(np.asarray(task.command(ended))[0, :2]) == 0.0  # told to stop
    tracked = ended._replace(metric_sums=np.zeros_like(state.metric_sums))
    assert task.success(tracked)[0]
    untracked = np.zeros_like(state.metric_sums)
    untracked[:, 0] = 0.3 * task.episode_steps  # a mean velocity error of 0.3 m/s
    assert not task.success(ended._replace(metric_sums=untracked))[0]
    standing = tracked._replace(goal=np.zeros_like(state.goal))
    assert not task.success(standing)[0]  # an episode asked to stand is no walk


def test_walk_training_stops_are_half_turns_in_place_and_half_standing_still(rng):
    from skillgym.envs.registry import make_task, task_config

    config = task_config(
        "skillgym/Tall19-Walk-v0", {"command_seconds": 2.5, "stand_probability": 0.4}
    )
    task = make_task("tall19", "Walk", config)
    memory = task.initial_memory(rng.random((4000, task.memory_uniforms)))
    later = memory[:, task.later_commands :].reshape(-1, 3)
    planar = np.linalg.norm(later[:, :2], axis=-1)
    stopped = planar == 0.0
    assert abs(stopped.mean() - 0.4) < 0.03
    turning = stopped & (later[:, 2] != 0.0)
    assert abs(turning.mean() - 0.2) < 0.03
    assert (planar[~stopped] >= 0.3 - 1e-9).all()
