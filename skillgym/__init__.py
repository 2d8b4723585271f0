"""skillgym: goal-conditioned humanoid and arm skills on MuJoCo, batched on CPU and GPU."""

import os
import sys

# Headless Linux renders through EGL (Mesa or a GPU driver); MuJoCo reads this at import.
if sys.platform.startswith("linux") and not os.environ.get("DISPLAY"):
    os.environ.setdefault("MUJOCO_GL", "egl")


from skillgym.envs.registry import (  # noqa: E402
    env_id,
    make_task,
    register_all,
    registered,
)

register_all()

__all__ = ["env_id", "make_task", "registered"]
__version__ = "0.1.0"
