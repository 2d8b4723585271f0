"""arm7: a 7-joint arm with a parallel-jaw gripper, mounted at a table."""

from skillgym.core.robots import ArmConfig

CONFIG = ArmConfig(
    name="arm7",
    kind="arm",
    frame_skip=10,
    # rad for the joints; m per finger for the gripper, so -1 closes it and 0 or more leaves it
    # open (its default).
    action_scale={
        "joint1": 1.5,
        "joint2": 1.2,
        "joint3": 1.5,
        "joint4": 1.2,
        "joint5": 1.5,
        "joint6": 1.2,
        "joint7": 1.5,
        "gripper": 0.04,
    },
    tilt_site="hand",
    table_height=0.75,
)
