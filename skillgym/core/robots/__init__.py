"""Per-robot constants. A robot plugs into every skill of its kind through one small config."""

from __future__ import annotations

import dataclasses
import importlib
from collections.abc import Mapping


@dataclasses.dataclass(frozen=True)
class RobotConfig:
    """What skills need to know about a robot beyond its MJCF file."""

    name: str  # the MJCF file in skillgym/assets/robots, and the env id prefix
    kind: str  # "humanoid" or "arm"
    frame_skip: int  # physics steps per 50 Hz control step
    # PD target = default pose + scale * action. Keys are matched as substrings of actuator
    # names, the first match wins, so one entry can serve both sides ("knee").
    action_scale: Mapping[str, float]
    tilt_site: str  # the site whose tilt from upright the `tilt` metric measures


@dataclasses.dataclass(frozen=True)
class HumanoidConfig(RobotConfig):
    """Humanoid constants: heights that scale the skills to the body, and the names of the
    sites, sensors and joints the skills read (pairs are left, then right)."""

    standing_height: float = 1.0  # pelvis height at the default pose
    fall_height: float = 0.6  # pelvis below this ends an episode
    squat_height_range: tuple[float, float] = (0.6, 1.0)  # pelvis targets for Squat
    pelvis_site: str = "pelvis"  # the base frame: heights, heading and falls
    wrist_sites: tuple[str, str] = ("left_wrist", "right_wrist")
    foot_sites: tuple[str, str] = ("left_foot", "right_foot")
    gyro_sensor: str = "imu_gyro"  # the base's angular velocity, in its frame
    velocimeter_sensor: str = "imu_linvel"  # the base's linear velocity, in its frame
    foot_touch_sensors: tuple[str, str] = ("left_foot_touch", "right_foot_touch")
    shoulder_joints: tuple[str, str] = ("left_shoulder_roll", "right_shoulder_roll")
    elbow_joints: tuple[str, str] = ("left_elbow", "right_elbow")
    # The arms' actuators: what Walk's arm motion drives in training, and what a blend of Walk's
    # legs with Reach's arms hands over.
    arm_actuators: tuple[str, ...] = (
        "left_shoulder_pitch",
        "left_shoulder_roll",
        "left_shoulder_yaw",
        "left_elbow",
        "right_shoulder_pitch",
        "right_shoulder_roll",
        "right_shoulder_yaw",
        "right_elbow",
    )


@dataclasses.dataclass(frozen=True)
class ArmConfig(RobotConfig):
    """Arm constants: where the table and the reachable workspace are."""

    table_height: float = 0.75
    # The table's side edges are at y = +-table_half_width: near enough for the arm to reach past
    # them, so an object pushed over an edge can be pinched from outside the table.
    table_half_width: float = 0.35
    # Reachable box of grip targets (world frame) and the table area where objects start.
    workspace_low: tuple[float, float, float] = (-0.15, -0.3, 0.8)
    workspace_high: tuple[float, float, float] = (0.25, 0.3, 1.15)
    table_region_low: tuple[float, float] = (-0.1, -0.2)
    table_region_high: tuple[float, float] = (0.2, 0.2)
    # m between the pads fully open (8 cm), less a margin for the approach
    jaw_opening: float = 0.075
    finger_travel: float = 0.04  # m a finger moves from closed to fully open
    grip_site: str = "grip"  # the tool point between the fingertips
    finger_sensor: str = "finger_left_pos"  # one finger's opening, m
    base_body: str = "base"  # the body the first joint turns the arm about
    # The first actuators (shoulder and elbow) move the hand about; those after them (the wrist,
    # the gripper) hold what it grasped. A carry hands over only the first ones.
    carry_actuators: int = 4
    # The mocap copy of the table top that only the robot collides with (see TableOffset).
    robot_table_body: str = "table_top_robot"


def action_scales(config: RobotConfig, actuator_names: list[str]) -> list[float]:
    """The action scale of every actuator, in actuator order."""
    scales = []
    for name in actuator_names:
        match = next((v for key, v in config.action_scale.items() if key in name), None)
        if match is None:
            raise ValueError(f"{config.name}: no action scale for actuator {name!r}")
        scales.append(match)
    return scales


# The humanoid family shares joint names and conventions, so one table of action scales
# (rad per unit action) serves all of its bodies.
HUMANOID_ACTION_SCALE: Mapping[str, float] = {
    "hip_pitch": 1.0,
    "hip_roll": 0.4,
    "hip_yaw": 0.4,
    "knee": 1.2,
    "ankle_pitch": 0.6,
    "ankle_roll": 0.3,
    "torso_yaw": 0.5,
    "shoulder": 1.0,
    "elbow": 1.0,
}

ROBOT_NAMES: tuple[str, ...] = ("tall19", "compact21", "tall21", "arm7")


def robot_config(name: str) -> RobotConfig:
    """The config of a robot by name, from its module in this package."""
    if name not in ROBOT_NAMES:
        raise ValueError(f"unknown robot {name!r}; robots: {', '.join(ROBOT_NAMES)}")
    return importlib.import_module(f"{__name__}.{name}").CONFIG
