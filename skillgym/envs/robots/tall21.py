"""tall21: a 1.8 m humanoid with 21 actuated joints (6 per leg, torso yaw, 4 per arm)."""

from skillgym.envs.robots import HumanoidConfig

CONFIG = HumanoidConfig(
    name="tall21",
    kind="humanoid",
    frame_skip=4,
    action_scale={
        "hip_pitch": 1.0,
        "hip_roll": 0.4,
        "hip_yaw": 0.4,
        "knee": 1.2,
        "ankle_pitch": 0.6,
        "ankle_roll": 0.3,
        "torso_yaw": 0.5,
        "shoulder": 1.0,
        "elbow": 1.0,
    },
    base_site="pelvis",
    standing_height=1.0,
    fall_height=0.45,
    squat_height_range=(0.65, 1.0),
)
