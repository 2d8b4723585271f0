"""Long-horizon benchmark tasks: each blends several primitive skills, and exposes the goals of
those skills (`skill_goals`) for a high-level controller."""

from skillgym.envs.task import Task
from skillgym.envs.tasks.box_push import BoxPush
from skillgym.envs.tasks.box_transfer import BoxTransfer
from skillgym.envs.tasks.button_press import ButtonPress
from skillgym.envs.tasks.cabinet_close import CabinetClose
from skillgym.envs.tasks.far_reach import FarReach
from skillgym.envs.tasks.football_shoot import FootballShoot
from skillgym.envs.tasks.package_carry import PackageCarry
from skillgym.envs.tasks.package_lift import PackageLift
from skillgym.envs.tasks.pivot_grasp import PivotGrasp
from skillgym.envs.tasks.push_grasp_lift import PushGraspLift

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
