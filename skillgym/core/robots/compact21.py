"""compact21: a 1.3 m humanoid with 21 actuated joints (6 per leg, waist yaw, 4 per arm)."""

from skillgym.core.robots import HUMANOID_ACTION_SCALE, HumanoidConfig

CONFIG = HumanoidConfig(
    name="compact21",
    kind="humanoid",
    frame_skip=4,
    action_scale=HUMANOID_ACTION_SCALE,
    tilt_site="pelvis",
    standing_height=0.75,
    fall_height=0.33,
    squat_height_range=(0.5, 0.75),
)
