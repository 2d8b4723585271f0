"""`skillgym bench`: score a policy or a submission on a suite, one independent job per task.

Jobs share nothing: `run_task(TaskJob)` builds its env and policy, plays, and returns a plain
dict, so results cannot depend on how many run at once or where. `--jobs N` runs them in a
`ProcessPoolExecutor`; on a cluster the same function goes to Ray unchanged:

    remote = ray.remote(run_task)
    records = ray.get([remote.remote(job) for job in jobs])  # in suite order
"""

from __future__ import annotations

import dataclasses
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import Any

from skillgym.benchmarks.results import build_results, write_results
from skillgym.benchmarks.scoring import VIDEO_SIZE, TaskJob, check_policy, run_task
from skillgym.benchmarks.submission import load_submission
from skillgym.benchmarks.suite import Suite
from skillgym.evaluation import progress_bar

VIDEO_DIR = "videos"


def bench(
    suite: Suite,
    out_dir: str | Path,
    *,
    policy: str = "zero",
    submission: str | Path | None = None,
    backend: str = "cpu",
    episodes: int | None = None,
    jobs: int = 1,
    video: bool = True,
    video_size: tuple[int, int] = VIDEO_SIZE,
) -> dict[str, Any]:
    """Score `policy` (a spec) or a submission folder on `suite`; write results.json in
    `out_dir` and return it. A submission is scored on the suite's tasks it lists."""
    out_dir = Path(out_dir)
    if episodes is not None:
        suite = dataclasses.replace(
            suite, tasks=tuple(dataclasses.replace(t, episodes=episodes) for t in suite.tasks)
        )
    video_dir = str(out_dir / VIDEO_DIR) if video else None
    threads = max(1, (os.cpu_count() or 1) // jobs)
    if submission is None:
        name, policy_record = policy, {"spec": policy}
        specs = {task.env_id: policy for task in suite.tasks}
    else:
        checked = load_submission(submission)
        unknown = set(checked.tasks) - {task.env_id for task in suite.tasks}
        if unknown:
            raise ValueError(f"submission tasks {sorted(unknown)} are not in suite {suite.name!r}")
        name = checked.name
        policy_record = {
            "submission": checked.name,
            "robot": checked.robot,
            "graphs": checked.digests(),
        }
        specs = {env_id: f"onnx:{checked.policy_path(env_id)}" for env_id in checked.tasks}
    task_jobs = [
        TaskJob(task, specs[task.env_id], backend, video_dir, threads, video_size)
        for task in suite.tasks
        if task.env_id in specs
    ]
    for job in task_jobs:  # a policy unfit for a late task fails now, not after the others
        check_policy(job)
    records = run_jobs(task_jobs, jobs)
    for record in records:
        if record["video"] is not None:
            record["video"] = Path(record["video"]).relative_to(out_dir).as_posix()
    results = build_results(
        suite,
        records,
        name=name,
        policy=policy_record,
        backend=backend,
        episodes_override=episodes,
    )
    write_results(results, out_dir)
    return results


def run_jobs(task_jobs: list[TaskJob], jobs: int = 1) -> list[dict[str, Any]]:
    """Run every job, `jobs` at a time, with a progress bar; records come back in job order."""
    if jobs < 1:
        raise ValueError(f"jobs must be at least 1, not {jobs}")
    progress = progress_bar(total=len(task_jobs), desc="bench", unit="task")
    try:
        if jobs == 1:
            records = []
            for job in task_jobs:
                progress.set_postfix_str(job.task.name)
                records.append(run_task(job))
                progress.update()
            return records
        # Spawned workers: forking a process that holds MuJoCo's or JAX's threads is unsafe.
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=jobs, mp_context=context) as pool:
            futures = {pool.submit(run_task, job): index for index, job in enumerate(task_jobs)}
            records_by_index = {}
            for future in as_completed(futures):
                records_by_index[futures[future]] = future.result()
                progress.update()
        return [records_by_index[index] for index in range(len(task_jobs))]
    finally:
        progress.close()
