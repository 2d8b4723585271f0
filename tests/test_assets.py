"""Robots and props: authored MJCF that loads, has the promised structure, and stands."""

import mujoco
import numpy as np
import pytest
from conftest import HUMANOIDS

from skillgym.assets import PROPS, add_prop, robot_path, robot_spec

ACTUATED = {"tall19": 19, "compact21": 21, "tall21": 21, "arm7": 8}
MASS = {"tall19": 47.0, "compact21": 35.0}
HEIGHT = {"tall19": 1.8, "compact21": 1.3, "tall21": 1.8}
SITES = ("pelvis", "imu", "head", "left_wrist", "right_wrist", "left_foot", "right_foot")
SENSORS = ("imu_gyro", "imu_acc", "imu_quat", "imu_linvel", "left_foot_touch", "right_foot_touch")


def load(name: str) -> mujoco.MjModel:
    return mujoco.MjModel.from_xml_path(str(robot_path(name)))


@pytest.mark.parametrize("name", list(ACTUATED))
def test_robot_has_its_number_of_actuated_joints(name):
    assert load(name).nu == ACTUATED[name]


def test_asset_paths_do_not_depend_on_the_working_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert robot_spec("tall19").compile().nu == 19


def test_unknown_robot_is_named_in_the_error():
    with pytest.raises(ValueError, match="valid robots"):
        robot_spec("nonexistent")


@pytest.mark.parametrize("name", HUMANOIDS)
def test_humanoid_mass_and_height_match_its_class(name):
    model = load(name)
    data = mujoco.MjData(model)
    mujoco.mj_resetDataKeyframe(model, data, model.keyframe("home").id)
    mujoco.mj_forward(model, data)
    if name in MASS:
        assert mujoco.mj_getTotalmass(model) == pytest.approx(MASS[name], rel=0.1)
    assert data.site("head").xpos[2] == pytest.approx(HEIGHT[name], abs=0.1)


def test_humanoids_share_joint_site_and_sensor_names():
    models = {name: load(name) for name in HUMANOIDS}
    joint_sets = {name: {m.joint(i).name for i in range(1, m.njnt)} for name, m in models.items()}
    assert joint_sets["tall19"] < joint_sets["compact21"] == joint_sets["tall21"]
    assert joint_sets["compact21"] - joint_sets["tall19"] == {"left_ankle_roll", "right_ankle_roll"}
    for model in models.values():
        for site in SITES:
            model.site(site)
        for sensor in SENSORS:
            model.sensor(sensor)
        for i in range(model.nu):
            model.sensor(f"{model.actuator(i).name}_pos")
            model.sensor(f"{model.actuator(i).name}_vel")


@pytest.mark.parametrize("name", HUMANOIDS)
def test_only_feet_and_hands_of_a_humanoid_collide(name):
    model = load(name)
    colliding = {
        model.body(model.geom_bodyid[g]).name
        for g in range(model.ngeom)
        if model.geom_contype[g] or model.geom_conaffinity[g]
    }
    colliding.discard("world")  # the floor
    assert colliding == {"left_foot", "right_foot", "left_forearm", "right_forearm"}


@pytest.mark.parametrize("name", list(ACTUATED))
def test_robot_holds_its_default_pose_for_ten_seconds_with_zero_action(name):
    model = load(name)
    data = mujoco.MjData(model)
    mujoco.mj_resetDataKeyframe(model, data, model.keyframe("home").id)
    mujoco.mj_forward(model, data)
    base = "pelvis" if name in HUMANOIDS else "grip"
    start = data.site(base).xpos.copy()
    for _ in range(round(10.0 / model.opt.timestep)):
        mujoco.mj_step(model, data)
    assert np.linalg.norm(data.site(base).xpos - start) < 0.05
    assert all(w.number == 0 for w in data.warning)
    if name in HUMANOIDS:
        assert data.site("pelvis").xmat[8] > 0.95  # still upright


def test_gripper_opens_at_most_eight_centimetres():
    model = load("arm7")
    low, high = model.actuator("gripper").ctrlrange
    finger = model.joint("finger_left")
    assert finger.range[1] * 2 <= 0.08 + 1e-9
    assert high * 2 <= 0.08 + 1e-9 and low == 0


def test_arm_table_matches_the_constants_the_tasks_use():
    from skillgym.core.robots.arm7 import CONFIG

    model = load("arm7")
    for name in ("table_top", "table_top_robot"):
        top = model.geom(name)
        body_z = model.body_pos[top.bodyid[0]][2]
        assert body_z + top.pos[2] + top.size[2] == pytest.approx(CONFIG.table_height)
        assert top.size[1] == pytest.approx(CONFIG.table_half_width)


def test_flat_box_is_fifteen_by_ten_by_six_centimetres():
    spec = robot_spec("arm7")
    add_prop(spec, "box_flat", "flat")
    model = spec.compile()
    assert sorted(model.geom("flat/geom").size * 2) == pytest.approx([0.06, 0.10, 0.15])


@pytest.mark.parametrize("prop", PROPS)
def test_every_prop_composes_into_a_humanoid_scene(prop):
    spec = robot_spec("tall19")
    add_prop(spec, prop, "a", pos=(2.0, 0.0, 0.0))
    add_prop(spec, prop, "b", pos=(-2.0, 0.0, 0.0))
    model = spec.compile()
    data = mujoco.MjData(model)
    for _ in range(100):
        mujoco.mj_step(model, data)
    assert np.isfinite(data.qpos).all()
