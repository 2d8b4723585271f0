"""Privileged training envs: help that acts only while its scale is above 0, on both backends."""

import dataclasses

import gymnasium as gym
import mujoco
import numpy as np
import pytest
from conftest import HUMANOIDS, make_vec

from skillgym.core.privileges import ObjectForce, TableOffset
from skillgym.core.snapshot import Snapshot
from skillgym.skills.push import Push

# Joint targets (robot action) that bring the arm's grip site to about 0.63 m, below the top.
REACH_UNDER_THE_TABLE = [0.0, 0.988, 0.0, 0.562, 0.0, -0.029, 0.0, 0.0]


def all_off(env) -> dict[str, float]:
    return {name: 0.0 for name in env.privileges.names}


@pytest.mark.parametrize("env_id", ["skillgym/Arm7-Push-v0", "skillgym/Tall19-Walk-v0"])
def test_privileged_env_at_zero_scales_is_the_plain_env(env_id, rng):
    plain, privileged = make_vec(env_id, 2), make_vec(env_id, 2, privileged=True)
    privileged.set_privilege_scales(all_off(privileged))
    nu = plain.model.nu
    assert privileged.single_observation_space == plain.single_observation_space
    obs_plain, _ = plain.reset(seed=3)
    obs_privileged, _ = privileged.reset(seed=3)
    np.testing.assert_array_equal(obs_privileged, obs_plain)
    for _ in range(40):
        action = rng.uniform(-1, 1, privileged.action_space.shape)  # channels ignored at 0
        for a, b in zip(plain.step(action[:, :nu])[:4], privileged.step(action)[:4], strict=True):
            np.testing.assert_array_equal(b, a)


def test_privilege_channels_follow_the_robot_actions_and_plain_envs_have_none():
    assert make_vec("skillgym/Arm7-Push-v0", 2).action_space.shape == (2, 8)
    assert make_vec("skillgym/Arm7-Push-v0", 2, privileged=True).action_space.shape == (2, 10)
    single = gym.make("skillgym/Arm7-Lift-v0", privileged=True)
    assert single.action_space.shape == (10,)
    assert set(single.unwrapped.privilege_scales) == {
        "object_force",
        "table_offset",
        "squared_yaw",
        "object_on_side",
    }
    walk = make_vec("skillgym/Tall19-Walk-v0", 2, privileged=True)
    assert walk.action_space.shape == (2, 19)  # the humanoid's help needs no action


def push_box(gate_distance: float, steps: int = 25) -> tuple[np.ndarray, np.ndarray, float]:
    """Box positions before and after the object-force channels push +x with the arm at rest,
    and the highest the box got."""
    privileges = (ObjectForce(gate_distance=gate_distance), TableOffset())
    config = dataclasses.replace(Push.default_config(), privileges=privileges)
    env = make_vec("skillgym/Arm7-Push-v0", 2, privileged=True, config=config)
    env.set_privilege_scales({"object_force": 1.0, "table_offset": 0.0})
    env.reset(seed=0)
    box = env.task.object_body[0]
    start = env.snapshot().xpos[:, box].copy()
    action = np.zeros(env.action_space.shape)
    action[:, 8] = 1.0  # full force along +x
    highest = 0.0
    for _ in range(steps):
        env.step(action)
        highest = max(highest, env.snapshot().xpos[:, box, 2].max())
    return start, env.snapshot().xpos[:, box].copy(), highest


def test_object_force_pushes_only_while_the_gripper_is_near():
    resting = 0.75 + 0.025  # box centre on the table top
    start, end, _ = push_box(gate_distance=0.15)  # the grip rests over 0.2 m from the box
    np.testing.assert_allclose(end[:, :2], start[:, :2], atol=1e-4)
    start, end, highest = push_box(gate_distance=1.0)
    assert (end[:, 0] - start[:, 0] > 0.1).all()
    assert highest < resting + 0.005  # slid, not lifted (or tipped)


def test_object_force_is_horizontal_and_never_lifts(rng):
    env = make_vec("skillgym/Arm7-Lift-v0", 4, privileged=True)
    env.reset(seed=0)
    snap = env.snapshot()
    site_xpos = snap.site_xpos.copy()
    site_xpos[:, env.task.grip] = snap.xpos[:, env.task.object_body[0]]  # grip on the box
    near = snap._replace(site_xpos=site_xpos)
    channels = rng.uniform(-1, 1, (4, 2))
    wrench = env.privileges.wrench(near, channels, np.array([[0.85, 0.0]] * 4))
    box = env.task.object_body[0]
    box_weight = env.model.body_mass[box] * 9.81
    np.testing.assert_allclose(wrench[:, box, :2], 1.5 * box_weight * channels)
    assert (wrench[..., 2:] == 0).all()  # no lift, no torque
    assert (np.delete(wrench, box, axis=1) == 0).all()  # only the box is pushed


def lift_start(object_on_side: float):
    env = make_vec("skillgym/Arm7-Lift-v0", 16, privileged=True)
    env.set_privilege_scales({"object_on_side": object_on_side, "squared_yaw": 0.0})
    env.reset(seed=0)
    return env


def test_object_on_side_stands_the_flat_box_on_its_side_where_it_stays():
    from skillgym.skills.lift import flat_box_on_side

    lying, standing = lift_start(0.0), lift_start(1.0)
    task, state = standing.task, standing.episode_state
    flat = np.asarray(state.goal)[:, 2] == 1
    assert 0 < flat.sum() < 16
    np.testing.assert_array_equal(state.goal, lying.episode_state.goal)
    center = task.centers[task.flat]
    thin_axis_up = standing.snapshot().site_xmat[:, center, 8]
    np.testing.assert_allclose(np.abs(thin_axis_up[flat]), 0.0, atol=1e-9)
    np.testing.assert_allclose(np.abs(lying.snapshot().site_xmat[flat, center, 8]), 1.0)
    heights = standing.snapshot().site_xpos[flat, center, 2] - task.robot.table_height
    np.testing.assert_allclose(heights, 0.05 + 1e-3)  # half its 10 cm width, now its height
    same = ~flat  # the small box's episodes start as they would have
    np.testing.assert_array_equal(standing.snapshot().qpos[same], lying.snapshot().qpos[same])
    paid = flat_box_on_side(task, standing.snapshot(), state, None)
    np.testing.assert_allclose(paid, flat.astype(float))
    assert (flat_box_on_side(task, lying.snapshot(), state, None) == 0).all()
    for _ in range(25):
        standing.step(np.zeros(standing.action_space.shape))
    assert (np.abs(standing.snapshot().site_xmat[flat, center, 8]) < 0.05).all()  # it rests there


def test_object_on_side_start_is_the_same_array_function_under_jax():
    import jax
    import jax.numpy as jnp

    env = lift_start(0.0)
    u = np.random.default_rng(0).random((16, env.task.reset_uniforms + 1))
    sample = env.task.sample_reset(u[:, :-1])
    scales = np.tile([0.85, 0.3, 0.5, 0.5], (16, 1))
    args = (sample.qpos, sample.goal, u[:, -1:], scales)
    qpos, goal = env.privileges.start(*args)
    assert 0 < np.sum(qpos != sample.qpos) < qpos.size  # some boxes turned, not all
    traced = jax.jit(env.privileges.start)(*(jnp.asarray(a, jnp.float32) for a in args))
    np.testing.assert_allclose(traced[0], qpos, atol=1e-6)
    np.testing.assert_allclose(traced[1], goal)


def jaw_spans_of_an_arm_turned_to_the_flat_box(squared_yaw: float) -> np.ndarray:
    """How wide the flat box stood on its side is along the jaw of the arm in its home pose,
    turned about its first joint to face the box, in each flat-box episode."""
    env = make_vec("skillgym/Arm7-Lift-v0", 16, privileged=True)
    env.set_privilege_scales({"object_on_side": 1.0, "squared_yaw": squared_yaw})
    env.reset(seed=0)
    task, model = env.task, env.model
    data = mujoco.MjData(model)
    box = task.object_qpos[task.flat]
    first_joint = model.jnt_qposadr[model.joint("joint1").id]
    base = data.xpos[model.body("base").id]
    spans = []
    for i, qpos in enumerate(env.snapshot().qpos):
        if env.episode_state.goal[i, 1 + task.flat] != 1:
            continue
        data.qpos[:] = task.home_qpos
        data.qpos[box : box + 7] = qpos[box : box + 7]
        mujoco.mj_kinematics(model, data)
        towards = data.xpos[task.object_body[task.flat]] - base
        data.qpos[first_joint] = np.arctan2(towards[1], towards[0])
        mujoco.mj_kinematics(model, data)
        turned = Snapshot(*(getattr(data, field).copy() for field in Snapshot._fields))
        state = env.episode_state._replace(goal=env.episode_state.goal[i])
        spans.append(task.extent_along_jaw(turned, state))
    assert len(spans) > 3
    return np.array(spans)


def test_squared_yaw_turns_the_box_so_the_jaw_of_an_arm_facing_it_spans_its_thickness():
    np.testing.assert_allclose(jaw_spans_of_an_arm_turned_to_the_flat_box(1.0), 0.06, atol=1e-6)
    unsquared = jaw_spans_of_an_arm_turned_to_the_flat_box(0.0)
    assert np.median(unsquared) > 0.1  # turned at random, it mostly does not fit the 8 cm jaw
    halfway = jaw_spans_of_an_arm_turned_to_the_flat_box(0.5)
    assert (halfway <= unsquared + 1e-9).all() and (halfway < unsquared - 1e-3).any()


def test_table_offset_lets_the_gripper_below_the_real_top_while_the_box_rests_on_it():
    env = make_vec("skillgym/Arm7-Push-v0", 2, privileged=True)
    env.set_privilege_scales({"object_force": 0.0, "table_offset": np.array([0.0, 0.3])})
    env.reset(seed=0)
    action = np.zeros(env.action_space.shape)
    action[:, :8] = REACH_UNDER_THE_TABLE
    lowest = np.full(2, np.inf)
    for _ in range(80):
        env.step(action)
        lowest = np.minimum(lowest, env.snapshot().site_xpos[:, env.task.grip, 2])
    top = env.task.robot.table_height
    assert lowest[0] > top and lowest[1] < top - 0.08
    box_z = env.snapshot().xpos[:, env.task.object_body[0], 2]
    np.testing.assert_allclose(box_z, top + 0.025, atol=2e-3)  # resting on the real top


def test_pelvis_harness_holds_up_a_shoved_humanoid_that_falls_without_it():
    env = make_vec("skillgym/Tall19-Squat-v0", 2, privileged=True)
    env.set_privilege_scales({"pelvis_harness": np.array([0.0, 1.0]), "reduced_gravity": 0.0})
    env.reset(seed=0)
    snap = env.snapshot()
    qvel = snap.qvel.copy()
    qvel[:, 0] = 1.0  # a 1 m/s shove forward
    env.physics.reset(np.arange(2), snap.qpos.copy(), qvel, env.task.default_ctrl)
    fell = np.zeros(2, dtype=bool)
    for _ in range(100):  # 2 s of zero action
        fell |= env.step(np.zeros(env.action_space.shape))[2]
    assert fell.tolist() == [True, False]


@pytest.mark.parametrize("robot", HUMANOIDS)
def test_pelvis_harness_leaves_a_standing_humanoid_its_weight_on_its_feet(robot):
    env = make_vec(f"skillgym/{robot.capitalize()}-Walk-v0", 1, privileged=True)
    env.set_privilege_scales({"pelvis_harness": 1.0, "reduced_gravity": 0.0})
    env.reset(seed=0)
    for _ in range(50):  # 1 s standing, harness on
        env.step(np.zeros(env.action_space.shape))
    snap = env.snapshot()
    weight = env.model.body_subtreemass[1] * 9.81
    on_feet = np.asarray(snap.sensordata)[0, env.task.touch].sum()
    np.testing.assert_allclose(on_feet, weight, rtol=0.05)


@pytest.mark.parametrize("robot", HUMANOIDS)
def test_pelvis_harness_leaves_alone_a_pelvis_as_low_as_the_deepest_squat_and_a_little_tilted(
    robot,
):
    env = make_vec(f"skillgym/{robot.capitalize()}-Squat-v0", 2, privileged=True)
    env.reset(seed=0)
    snap = env.snapshot()
    qpos = snap.qpos.copy()
    qpos[:, 2] -= env.task.base_height(snap) - env.task.robot.squat_height_range[0]
    half_tilts = np.array([0.045, 0.06])  # half of 0.09 rad, inside the slack; 0.12, beyond it
    qpos[:, 3:7] = np.stack(
        [np.cos(half_tilts), np.sin(half_tilts), 0 * half_tilts, 0 * half_tilts], axis=1
    )
    env.physics.reset(np.arange(2), qpos, np.zeros_like(snap.qvel), env.task.default_ctrl)
    scales = np.array([[1.0, 0.0], [1.0, 0.0]])  # the harness at full strength, gravity whole
    wrench = env.privileges.wrench(env.snapshot(), np.zeros((2, 0)), scales)
    assert (wrench[0] == 0).all()  # no lift, no torque: a crouched gait walks on its own
    assert wrench[1, :, 2].sum() == 0 and np.abs(wrench[1, :, 3]).sum() > 0


def test_reduced_gravity_lifts_the_robot_by_a_fraction_of_its_weight():
    env = make_vec("skillgym/Tall19-Reach-v0", 2, privileged=True)
    env.reset(seed=0)
    scales = np.array([[0.0, 0.25], [0.0, 0.0]])  # harness off; a quarter of the weight
    wrench = env.privileges.wrench(env.snapshot(), np.zeros((2, 0)), scales)
    weight = env.model.body_subtreemass[1] * 9.81
    np.testing.assert_allclose(wrench[:, :, 2].sum(axis=1), [0.25 * weight, 0.0])
    assert (wrench[..., [0, 1, 3, 4, 5]] == 0).all()


def test_narrowed_commands_shrink_walk_goals_towards_standing_still():
    plain = make_vec("skillgym/Tall19-Walk-v0", 3)
    privileged = make_vec("skillgym/Tall19-Walk-v0", 3, privileged=True)
    privileged.set_privilege_scales({"narrow_commands": 0.75})
    plain.reset(seed=1)
    privileged.reset(seed=1)
    goal = plain.episode_state.goal
    np.testing.assert_allclose(privileged.episode_state.goal, 0.25 * goal)


def test_new_scales_wait_for_an_env_s_next_episode_unless_it_is_just_starting():
    env = make_vec("skillgym/Arm7-Push-v0", 2, privileged=True)
    env.reset(seed=0)
    env.step(np.zeros(env.action_space.shape))
    env.set_privilege_scales({"table_offset": 0.1})
    assert env.privilege_scales["table_offset"].tolist() == [0.3, 0.3]  # mid-episode
    env.reset(seed=0)
    assert env.privilege_scales["table_offset"].tolist() == [0.1, 0.1]
    env.set_privilege_scales({"table_offset": np.array([0.0, 0.2])})  # episodes just began
    assert env.privilege_scales["table_offset"].tolist() == [0.0, 0.2]


def test_plain_env_refuses_privilege_scales():
    with pytest.raises(ValueError, match="privileged=True"):
        make_vec("skillgym/Arm7-Push-v0", 2).set_privilege_scales({"table_offset": 0.0})


def test_privileged_walk_traces_on_mjx_with_the_same_spaces_as_on_cpu():
    import jax

    env = make_vec("skillgym/Tall19-Walk-v0", 2, privileged=True, backend="mjx")
    keys = jax.random.split(jax.random.PRNGKey(0), 2)
    scales = np.tile(env.core.initial_privilege_scale, (2, 1))
    state = jax.eval_shape(jax.vmap(env.core.reset), keys, scales)
    action = jax.ShapeDtypeStruct(env.action_space.shape, np.float32)
    stepped = jax.eval_shape(jax.vmap(env.core.step), state, action)
    assert stepped.obs.shape == make_vec("skillgym/Tall19-Walk-v0", 2).observation_space.shape
    assert stepped.privilege_scale.shape == (2, 3)


def test_privileged_push_on_mjx_matches_the_cpu_backend():
    import jax

    from skillgym.envs.mjx import device_jit

    cpu = make_vec("skillgym/Arm7-Push-v0", 2, privileged=True)
    mjx_env = make_vec("skillgym/Arm7-Push-v0", 2, privileged=True, backend="mjx")
    scales = {"object_force": 0.85, "table_offset": np.array([0.0, 0.3])}
    cpu.set_privilege_scales(scales)
    mjx_env.set_privilege_scales(scales)
    cpu.reset(seed=0)
    snap, goal = cpu.snapshot(), np.asarray(cpu.episode_state.goal)
    keys = jax.random.split(jax.random.PRNGKey(0), 2)
    start = np.stack([cpu.privilege_scales[name] for name in cpu.privileges.names], axis=-1)
    reset_to = device_jit(jax.vmap(mjx_env.core.reset_to))
    mjx_env._state = reset_to(snap.qpos.copy(), snap.qvel.copy(), goal, keys, start)
    np.testing.assert_allclose(mjx_env.privilege_scales["table_offset"], [0.0, 0.3])
    action = np.zeros((2, 10))
    action[:, :8] = REACH_UNDER_THE_TABLE
    action[:, 8] = 1.0
    for _ in range(10):
        obs_cpu, reward_cpu, *_ = cpu.step(action)
        obs_mjx, reward_mjx, *_ = mjx_env.step(action)
        np.testing.assert_allclose(obs_mjx, obs_cpu, atol=1e-4)
        np.testing.assert_allclose(reward_mjx, reward_cpu, atol=1e-5)


@pytest.mark.parametrize(
    "env_id", ["skillgym/Arm7-PushGraspLift-v0", "skillgym/Arm7-PivotGrasp-v0"]
)
def test_the_flat_box_tasks_train_with_the_object_force_and_a_lowered_table(env_id):
    env = make_vec(env_id, 2, privileged=True)
    assert set(env.privilege_scales) == {"object_force", "table_offset"}
    assert env.action_space.shape == (2, 10)


def test_asking_for_the_privileged_variant_of_an_env_without_privileges_is_an_error():
    with pytest.raises(ValueError, match="Reach on arm7 has no privileges"):
        make_vec("skillgym/Arm7-Reach-v0", 1, privileged=True)
