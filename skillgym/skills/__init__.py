"""Goal-conditioned, task-agnostic primitive skills, each defined once for every robot."""

from skillgym.core.task import Task
from skillgym.skills.arm_reach import ArmReach
from skillgym.skills.lift import Lift
from skillgym.skills.push import Push
from skillgym.skills.reach import Reach
from skillgym.skills.squat import Squat
from skillgym.skills.step import Step
from skillgym.skills.walk import Walk

SKILLS: tuple[type[Task], ...] = (Walk, Reach, Squat, Step, ArmReach, Push, Lift)


def skill_class(
    kind: str, name: str, classes: tuple[type[Task], ...] = SKILLS, what: str = "skills"
) -> type[Task]:
    """The skill (or, given other `classes`, the task) called `name` for robots of `kind`."""
    for cls in classes:
        if cls.robot_kind == kind and cls.name == name:
            return cls
    names = sorted({cls.name for cls in classes if cls.robot_kind == kind})
    raise ValueError(f"unknown {kind} {what[:-1]} {name!r}; {kind} {what}: {', '.join(names)}")
