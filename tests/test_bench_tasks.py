"""The long-horizon benchmark tasks: registered for every robot of their kind, sane in a batch,
resets inside the documented ranges, and skill goals in the primitive skills' own layouts."""

import numpy as np
import pytest
from conftest import make_vec

import skillgym
from skillgym.core.arrays import heading_unrotate
from skillgym.skills import skill_class
from skillgym.tasks import TASKS
from skillgym.tasks.box_push import BOX_REST_Z
from skillgym.tasks.button_press import ButtonPress
from skillgym.tasks.football_shoot import GOAL_X
from skillgym.tasks.package_lift import PACKAGE_REST_Z

TASK_NAMES = {cls.name for cls in TASKS}
TASK_IDS = tuple(e for e, (_, name) in skillgym.registered().items() if name in TASK_NAMES)
HUMANOID_TASKS = (
    "FarReach",
    "ButtonPress",
    "CabinetClose",
    "FootballShoot",
    "BoxPush",
    "PackageLift",
    "BoxTransfer",
    "PackageCarry",
)


def test_every_task_is_registered_for_every_robot_of_its_kind():
    expected = {
        f"skillgym/{robot}-{task}-v0"
        for robot in ("Tall19", "Compact21", "Tall21")
        for task in HUMANOID_TASKS
    } | {"skillgym/Arm7-PushGraspLift-v0", "skillgym/Arm7-PivotGrasp-v0"}
    assert set(TASK_IDS) == expected
    assert "skillgym/Tall19-Walk-v0" in skillgym.registered()  # skills keep their ids


@pytest.mark.parametrize("env_id", TASK_IDS)
def test_task_runs_in_a_cpu_batch_with_finite_outputs_and_skill_goals_in_skill_layouts(env_id, rng):
    env = make_vec(env_id, num_envs=4)
    obs, _ = env.reset(seed=0)
    task = env.task
    for _ in range(5):
        action = rng.uniform(-0.2, 0.2, env.action_space.shape)
        obs, reward, terminated, truncated, info = env.step(action)
        assert np.isfinite(obs).all() and np.isfinite(reward).all()
        assert info["success"].shape == (4,) and info["success"].dtype == bool
    snap, state = env.snapshot(), env.episode_state
    assert task.metrics(snap, state).shape == (4, len(task.metric_names))
    assert np.isfinite(task.metrics(snap, state)).all()
    goals = task.skill_goals(snap, state)
    assert goals
    for skill, goal in goals.items():
        assert goal.shape == (4, skill_class(task.robot_kind, skill).goal_size), skill
        assert np.isfinite(goal).all()


@pytest.mark.parametrize("env_id", TASK_IDS)
def test_holding_still_does_not_succeed_or_end_the_episode_within_a_second(env_id):
    env = make_vec(env_id, num_envs=4)
    env.reset(seed=0)
    for _ in range(50):
        _, _, terminated, truncated, info = env.step(np.zeros(env.action_space.shape))
        assert not info["success"].any()
        assert not (terminated | truncated).any()


def reset_ranges(task, qpos, goal):
    """What each task's documented reset ranges promise: (values, low, high) triples."""
    robot_y = qpos[:, 1]
    name = task.name
    if name == "FarReach":
        moved = np.linalg.norm(goal[:, :2] - task.home_wrists[0, :2], axis=-1)
        return [(moved, 0.3 - 0.35, 2.0 + 0.35), (goal[:, 2] - task.home_wrists[0, 2], -0.2, 0.2)]
    if name == "ButtonPress":
        rest_x = task.button_rest[0]
        return [(goal[:, 1] - robot_y, -0.5, 0.5), (goal[:, 0], rest_x, rest_x)]
    if name == "CabinetClose":
        return [(qpos[:, task.hinge_qpos], 0.5, 1.5), (goal, 0.0, 0.0)]
    if name == "FootballShoot":
        ball = qpos[:, task.prop_qpos["ball"] : task.prop_qpos["ball"] + 3]
        goal_x = (goal[:, 0], GOAL_X, GOAL_X)
        return [(goal[:, 1] - robot_y, -0.5, 0.5), goal_x, (ball[:, 0], 0.4, 0.7)]
    if name == "BoxPush":
        return [(goal[:, 0], 0.75, 0.95), (goal[:, 1], -0.35, 0.35)]
    if name == "PackageLift":
        return [(goal[:, 0] - PACKAGE_REST_Z, 0.3, 0.6)]
    if name == "BoxTransfer":
        on_table = (goal[:, 2], BOX_REST_Z, BOX_REST_Z)
        return [(goal[:, 0], -0.8, -0.5), (goal[:, 1], -0.3, 0.3), on_table]
    if name == "PackageCarry":
        start = qpos[:, task.prop_qpos["package"] : task.prop_qpos["package"] + 3]
        return [(goal[:, 0] - start[:, 0], 0.3, 1.0), (goal[:, 2] - start[:, 2], 0.3, 0.6)]
    if name in ("PushGraspLift", "PivotGrasp"):
        box = qpos[:, task.object_qpos[0] : task.object_qpos[0] + 3]
        low, high = task.config.box_low, task.config.box_high
        lifted = goal[:, 2] - task.rest_z
        return [(lifted, 0.1, 0.2), (box[:, 0], low[0], high[0]), (box[:, 1], low[1], high[1])]
    raise AssertionError(f"no documented ranges for {name}")


@pytest.mark.parametrize("env_id", [e for e in TASK_IDS if "Tall21" not in e])
def test_resets_sample_inside_the_documented_ranges_and_cover_them(env_id, rng):
    task = make_vec(env_id, num_envs=1).task
    sample = task.sample_reset(rng.random((512, task.reset_uniforms)))
    for values, low, high in reset_ranges(task, sample.qpos, sample.goal):
        assert values.min() >= low - 1e-6 and values.max() <= high + 1e-6
        if low != high:  # the whole range is used, not a corner of it
            assert values.max() - values.min() > 0.5 * (high - low)


def test_football_success_is_the_ball_over_the_goal_line_between_the_posts():
    env = make_vec("skillgym/Tall19-FootballShoot-v0", num_envs=2)
    env.reset(seed=0)
    task, snap = env.task, env.snapshot()
    qpos = np.array(snap.qpos)
    ball = task.prop_qpos["ball"]
    qpos[0, ball : ball + 3] = (GOAL_X + 0.3, 0.2, 0.1)  # in the net
    qpos[1, ball : ball + 3] = (GOAL_X + 0.3, 1.2, 0.1)  # wide of the post
    env.physics.reset(np.arange(2), qpos, np.zeros((2, env.model.nv)), task.default_ctrl[None])
    result = task.advance(env.snapshot(), env.episode_state, np.zeros((2, env.model.nu)))
    assert result.success.tolist() == [True, False]


def test_button_press_needs_the_button_pushed_in_by_the_left_hand():
    env = make_vec("skillgym/Tall19-ButtonPress-v0", num_envs=2)
    env.reset(seed=0)
    task: ButtonPress = env.task
    qpos = np.array(env.snapshot().qpos)
    qpos[:, task.press_qpos] = (0.025, 0.005)
    env.physics.reset(np.arange(2), qpos, np.zeros((2, env.model.nv)), task.default_ctrl[None])
    snap, state = env.snapshot(), env.episode_state
    np.testing.assert_allclose(task.metrics(snap, state)[:, 1], (0.025, 0.005))
    left, right = (task.sites[site] for site in task.robot.wrist_sites)
    button = np.asarray(snap.site_xpos)[:, task.button]

    def reached(left_offset: float, right_offset: float) -> list[bool]:
        """With the wrists these distances in front of the button's face."""
        site_xpos = np.array(snap.site_xpos)
        site_xpos[:, left] = button - [left_offset, 0.0, 0.0]
        site_xpos[:, right] = button - [right_offset, 0.0, 0.0]
        return task.reached(snap._replace(site_xpos=site_xpos), state).tolist()

    assert reached(0.05, 0.5) == [True, False]  # pushed in 2.5 cm by the hand, 0.5 cm
    assert reached(0.12, 0.5) == [True, False]  # the hand's edge on the cap's corner
    assert reached(0.5, 0.05) == [False, False]  # the right hand presses
    assert reached(0.5, 0.8) == [False, False]  # a foot or a knee presses
    assert not task.reached(snap, state).any()  # standing where the episode starts


@pytest.mark.parametrize("env_id", ["skillgym/Tall19-BoxPush-v0", "skillgym/Tall19-BoxTransfer-v0"])
def test_the_box_counts_only_resting_on_the_table(env_id):
    env = make_vec(env_id, num_envs=1)
    env.reset(seed=0)
    task, snap, state = env.task, env.snapshot(), env.episode_state
    box = np.asarray(task.box(snap))
    on_goal = state._replace(goal=box[:, : task.goal_size] + 0.01)  # within either tolerance
    assert task.reached(snap, on_goal).all()

    def raised(height: float):
        xpos = np.array(snap.xpos)
        xpos[:, task.prop_body["box"], 2] += height
        return snap._replace(xpos=xpos)

    assert task.reached(raised(0.015), on_goal).all()  # settling on the table top
    assert not task.reached(raised(0.05), on_goal).any()  # lifted over its goal
    assert not task.reached(raised(-0.05), on_goal).any()  # hanging over the table's edge


@pytest.mark.parametrize(
    ("env_id", "box_position"),
    [("skillgym/Tall19-BoxPush-v0", "box"), ("skillgym/Arm7-PushGraspLift-v0", "object_pos")],
)
def test_reward_grows_and_the_goal_is_met_as_the_box_nears_its_goal(env_id, box_position):
    env = make_vec(env_id, num_envs=1)
    env.reset(seed=0)
    task, state, snap = env.task, env.episode_state, env.snapshot()
    box = np.asarray(getattr(task, box_position)(snap))[:, : task.goal_size]
    near, far = state._replace(goal=box + 0.01), state._replace(goal=box + 0.2)
    action = np.zeros((1, env.model.nu))
    assert task.advance(snap, near, action).reward[0] > task.advance(snap, far, action).reward[0]
    assert task.reached(snap, near)[0] and not task.reached(snap, far)[0]


def test_walk_goal_heads_for_the_target_and_stops_at_the_stand_off():
    env = make_vec("skillgym/Tall19-FarReach-v0", num_envs=1)
    env.reset(seed=0)
    task, snap = env.task, env.snapshot()
    pelvis = np.asarray(snap.site_xpos[:, task.pelvis])
    ahead = task.walk_goal(snap, pelvis + [1.0, 0.0, 0.0], 0.3)[0]
    left = task.walk_goal(snap, pelvis + [0.0, 1.0, 0.0], 0.3)[0]
    there = task.walk_goal(snap, pelvis + [0.2, 0.0, 0.0], 0.3)[0]
    assert ahead[0] > 0.5 and abs(ahead[1]) < 0.05 and abs(ahead[2]) < 0.05
    assert left[1] > 0 and left[2] > 0  # sidestep left and turn left
    np.testing.assert_allclose(there[:2], 0.0, atol=1e-9)


@pytest.mark.parametrize("env_id", TASK_IDS)
def test_skill_goals_and_observations_under_jax_jit_match_numpy(env_id, rng):
    jax = pytest.importorskip("jax")
    env = make_vec(env_id, num_envs=2)
    env.reset(seed=0)
    env.step(rng.uniform(-0.2, 0.2, env.action_space.shape))
    task, snap, state = env.task, env.snapshot(), env.episode_state

    @jax.jit
    def evaluate(snap, state):
        return (
            task.skill_goals(snap, state),
            task.observe(snap, state),
            task.metrics(snap, state),
        )

    on_jax = evaluate(*jax.tree.map(jax.numpy.asarray, (snap, state)))
    on_numpy = (
        task.skill_goals(snap, state),
        task.observe(snap, state),
        task.metrics(snap, state),
    )
    for jax_value, numpy_value in zip(
        jax.tree.leaves(on_jax), jax.tree.leaves(on_numpy), strict=True
    ):
        np.testing.assert_allclose(jax_value, numpy_value, atol=1e-4)


@pytest.mark.parametrize("env_id", ["skillgym/Tall19-BoxPush-v0"])
def test_task_compiles_and_steps_on_mjx_like_on_the_cpu(env_id, rng):
    pytest.importorskip("jax")
    mjx_env = make_vec(env_id, num_envs=2, backend="mjx")
    cpu = make_vec(env_id, num_envs=2)
    obs, _ = mjx_env.reset(seed=0)
    assert obs.shape == cpu.observation_space.shape
    for _ in range(3):
        obs, reward, terminated, _, info = mjx_env.step(rng.uniform(-0.2, 0.2, (2, cpu.model.nu)))
        assert np.isfinite(np.asarray(obs)).all() and np.isfinite(np.asarray(reward)).all()
    assert not np.asarray(terminated).any() and not np.asarray(info["success"]).any()


@pytest.mark.parametrize("skill", ["Reach", "Step"])
def test_skill_goals_give_the_skill_the_errors_to_world_targets_in_its_range(skill):
    env = make_vec("skillgym/Tall19-FootballShoot-v0", num_envs=3)
    env.reset(seed=0)
    env.step(np.zeros(env.action_space.shape))  # the robot stands aside, not at the origin
    task, snap = env.task, env.snapshot()
    primitive = skill_class("humanoid", skill)(task.robot)
    primitive.bind(env.model)
    dims, sites = primitive.dims, primitive.target_sites  # the wrists or the feet
    # Targets a few centimetres from each site's default spot, the wrists' raised towards the
    # shoulders: inside the region the skill is trained on.
    home = np.stack([task.home_local(site) for site in sites])
    offsets = np.array([[0.03, 0.02, 0.06], [-0.02, -0.03, 0.05]])[:, :dims]
    local = home.copy()
    local[:, :dims] += offsets
    pelvis = snap.site_xpos[:, task.pelvis]
    xmat = snap.site_xmat[:, None, task.pelvis]
    xy = pelvis[:, None, :2] + heading_unrotate(xmat, np.broadcast_to(local[:, :2], (3, 2, 2)))
    targets = np.concatenate([xy, pelvis[:, None, 2:] + local[:, 2:]], axis=-1)
    goal = {"Reach": task.reach_goal, "Step": task.step_goal}[skill](snap, targets)
    state = env.episode_state._replace(goal=goal)
    errors = primitive.goal_observation(snap, state).reshape(3, 2, dims)
    current = np.stack([primitive.local(snap, site)[:, :dims] for site in sites], 1)
    np.testing.assert_allclose(errors, local[:, :dims] - current, atol=1e-9)


@pytest.mark.parametrize("env_id", [e for e in TASK_IDS if "Tall21" not in e])
def test_each_skill_s_observation_lies_in_the_task_s_with_the_decomposition_s_goal(env_id, rng):
    env = make_vec(env_id, num_envs=3)
    env.reset(seed=0)
    obs, *_ = env.step(rng.uniform(-0.3, 0.3, env.action_space.shape))
    task, snap, state = env.task, env.snapshot(), env.episode_state
    goals = task.composed_goals(snap, state)
    slots = task.skill_slots(snap, state)
    humanoid = {"Walk", "Reach", "Squat", "Step"}
    assert set(slots) == (humanoid if task.robot_kind == "humanoid" else {"Lift", "Reach"})
    for name, skill_slots in slots.items():
        assembled = np.concatenate(
            [obs[:, start : start + size] for _, start, size in skill_slots], -1
        )
        expected = task.skills[name].observe(snap, state._replace(goal=goals[name]))
        np.testing.assert_allclose(assembled, expected, rtol=1e-5, atol=1e-5)
        assert skill_slots[0][0] == "goal"


@pytest.mark.parametrize(
    "env_id", ["skillgym/Arm7-PushGraspLift-v0", "skillgym/Arm7-PivotGrasp-v0"]
)
def test_an_arm_task_s_skills_observe_its_object_as_their_own(env_id, rng):
    env = make_vec(env_id, num_envs=3)
    env.reset(seed=0)
    env.step(rng.uniform(-0.3, 0.3, env.action_space.shape))
    task, snap, state = env.task, env.snapshot(), env.episode_state
    lift = task.skills["Lift"]
    lift_state = state._replace(goal=task.composed_goals(snap, state)["Lift"])
    box = task.object_pos(snap)
    np.testing.assert_allclose(lift.active_object_pos(snap, lift_state), box)
    np.testing.assert_allclose(lift.lift_height(snap, lift_state), box[:, 2] - task.rest_z)
