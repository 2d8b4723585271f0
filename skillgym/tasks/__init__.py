"""Long-horizon benchmark tasks: each blends several primitive skills, and exposes the goals of
those skills (`skill_goals`) for a high-level controller."""

from skillgym.core.task import Task
from skillgym.tasks.box_push import BoxPush
from skillgym.tasks.box_transfer import BoxTransfer
from skillgym.tasks.button_press import ButtonPress
from skillgym.tasks.cabinet_close import CabinetClose
from skillgym.tasks.far_reach import FarReach
from skillgym.tasks.football_shoot import FootballShoot
from skillgym.tasks.package_carry import PackageCarry
from skillgym.tasks.package_lift import PackageLift
from skillgym.tasks.pivot_grasp import PivotGrasp
from skillgym.tasks.push_grasp_lift import PushGraspLift

TASKS: tuple[type[Task], ...] = (
    FarReach,
    ButtonPress,
    CabinetClose,
    FootballShoot,
    BoxPush,
    PackageLift,
    BoxTransfer,
    PackageCarry,
    PushGraspLift,
    PivotGrasp,
)
