"""skillgym: goal-conditioned humanoid and arm skills on MuJoCo, batched on CPU and GPU."""

from skillgym.envs.registry import env_id, make_task, register_all, registered

register_all()

__all__ = ["env_id", "make_task", "registered"]
__version__ = "0.1.0"
