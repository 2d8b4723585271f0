"""tall19: a 1.8 m humanoid with 19 actuated joints (5 per leg, torso yaw, 4 per arm)."""

from skillgym.core.robots import HUMANOID_ACTION_SCALE, HumanoidConfig

CONFIG = HumanoidConfig(
    name="tall19",
    kind="humanoid",
    frame_skip=4,
    action_scale=HUMANOID_ACTION_SCALE,
    tilt_site="pelvis",
    standing_height=1.0,
    fall_height=0.45,
    squat_height_range=(0.65, 1.0),
)
