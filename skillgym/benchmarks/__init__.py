"""The benchmark: suites (protocol), policies and submissions, scoring, results and leaderboard.

skillgym bench --suite skills --policy scripted --out runs/scripted
skillgym submit check my-submission/
skillgym bench --suite skills --submission my-submission/ --out runs/mine
skillgym leaderboard runs/*/results.json --out board/
"""

from skillgym.benchmarks.leaderboard import write_leaderboard
from skillgym.benchmarks.policy_spec import (
    LoadedPolicy,
    PolicyContext,
    make_policy,
    register_policy_scheme,
)
from skillgym.benchmarks.results import format_table, read_results
from skillgym.benchmarks.runner import bench, run_jobs
from skillgym.benchmarks.scoring import TaskJob, run_task
from skillgym.benchmarks.submission import (
    LAYOUT_VERSION,
    CheckFailure,
    SubmissionError,
    check_submission,
    export_submission,
    load_submission,
)
from skillgym.benchmarks.suite import builtin_suites, load_suite

__all__ = [
    "LAYOUT_VERSION",
    "CheckFailure",
    "LoadedPolicy",
    "PolicyContext",
    "SubmissionError",
    "TaskJob",
    "bench",
    "builtin_suites",
    "check_submission",
    "export_submission",
    "format_table",
    "load_submission",
    "load_suite",
    "make_policy",
    "read_results",
    "register_policy_scheme",
    "run_jobs",
    "run_task",
    "write_leaderboard",
]
