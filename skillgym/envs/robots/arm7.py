"""arm7: a 7-joint arm with a parallel-jaw gripper, mounted at a table."""

from skillgym.envs.robots import ArmConfig

CONFIG = ArmConfig(
    name="arm7",
    kind="arm",
    frame_skip=10,
    # Joint targets swing up to this far from the default pose; the last entry drives the
    # gripper opening (m per finger), so -1 closes it and 0 or more leaves it open.
    action_scale=(1.2, 1.0, 1.2, 1.0, 1.5, 1.0, 1.5, 0.04),
    base_site="hand",
    table_height=0.75,
)
