"""The benchmark protocol: suites, scoring without partial resets, reproducible results, CLI."""

import dataclasses
import json
from importlib import import_module, resources

import gymnasium as gym
import imageio.v3 as iio
import numpy as np
import pytest

import skillgym
from skillgym.benchmarks import (
    LoadedPolicy,
    TaskJob,
    bench,
    load_suite,
    read_results,
    register_policy_scheme,
    run_task,
)
from skillgym.cli import main
from skillgym.core.task import FEASIBILITY_METRICS
from skillgym.policies.checkpoint import pretrained_path
from skillgym.policies.scripted import RandomPolicy, ZeroPolicy
from skillgym.tasks import TASKS

LOCO_MANIPULATION = {
    f"skillgym/{'Tall19' if cls.robot_kind == 'humanoid' else 'Arm7'}-{cls.name}-v0"
    for cls in TASKS
}


def write_suite(path, tasks, name="tiny"):
    path.write_text(json.dumps({"schema_version": 1, "name": name, "tasks": tasks}))
    return path


def tiny_task(env_id="skillgym/Arm7-Reach-v0", robot="arm7", episodes=3, seconds=0.3):
    return {
        "env_id": env_id,
        "robot": robot,
        "episodes": episodes,
        "seed": 0,
        "episode_seconds": seconds,
    }


@pytest.fixture
def tiny_suite(tmp_path):
    """Two short tasks: an arm that never falls and a humanoid that may."""
    tasks = [tiny_task(), tiny_task("skillgym/Tall19-Squat-v0", "tall19", seconds=0.4)]
    return load_suite(write_suite(tmp_path / "tiny.json", tasks))


def metrics_only(results):
    return [{k: v for k, v in t.items() if k != "wall_seconds"} for t in results["tasks"]]


def test_builtin_skills_suite_scores_every_registered_skill_env():
    from skillgym.skills import SKILLS

    suite = load_suite("skills")
    skill_names = {cls.name for cls in SKILLS}
    skill_envs = [e for e, (_, name) in skillgym.registered().items() if name in skill_names]
    assert [t.env_id for t in suite.tasks] == skill_envs
    assert all(t.robot == skillgym.registered()[t.env_id][0] for t in suite.tasks)


def test_loco_manipulation_suite_lists_the_ten_tasks_on_tall19_and_arm7():
    raw = json.loads(
        (resources.files("skillgym.benchmarks") / "suites/loco-manipulation.json").read_text()
    )
    assert {t["env_id"] for t in raw["tasks"]} == LOCO_MANIPULATION
    assert {t["robot"] for t in raw["tasks"]} == {"tall19", "arm7"}
    missing = [t["env_id"] for t in raw["tasks"] if t["env_id"] not in skillgym.registered()]
    if missing:  # the tasks' envs are not installed: the loader says which one
        with pytest.raises(ValueError, match=missing[0]):
            load_suite("loco-manipulation")
    else:
        assert len(load_suite("loco-manipulation").tasks) == 10


def test_a_suite_naming_an_unregistered_env_fails_with_a_clear_message(tmp_path):
    path = write_suite(tmp_path / "s.json", [tiny_task("skillgym/Tall19-Reech-v0", "tall19")])
    with pytest.raises(ValueError, match=r"Tall19-Reech-v0.*not registered.*Tall19-Reach-v0"):
        load_suite(path)


@pytest.mark.parametrize("seconds", [0, -1.0])
def test_a_suite_task_with_no_episode_length_is_refused_when_loaded(tmp_path, seconds):
    task = {**tiny_task("skillgym/Arm7-Reach-v0", "arm7"), "episode_seconds": seconds}
    path = write_suite(tmp_path / "s.json", [task])
    with pytest.raises(ValueError, match=r"s\.json.*episode_seconds must be above 0"):
        load_suite(path)


def test_an_unknown_suite_name_lists_the_builtin_ones():
    with pytest.raises(ValueError, match="loco-manipulation, skills"):
        load_suite("nope")


class HalfRandom:
    """Random actions in the even envs (they topple early), the default pose in the odd ones."""

    def __init__(self, env):
        self.random = RandomPolicy(env, seed=0)

    def __call__(self, obs):
        actions = self.random(obs)
        actions[1::2] = 0.0
        return actions


def test_each_env_scores_its_first_episode_to_its_end(tmp_path):
    register_policy_scheme("half-random", lambda _, ctx: LoadedPolicy(HalfRandom(ctx.env), "h"))
    suite = load_suite(
        write_suite(tmp_path / "s.json", [tiny_task("skillgym/Tall19-Walk-v0", "tall19", 6, 2.0)])
    )
    record = run_task(TaskJob(suite.tasks[0], "half-random"))
    # The same batch by hand (its episodes 10 s long): when each env's first episode ends.
    env = gym.make_vec("skillgym/Tall19-Walk-v0", 6, vectorization_mode="vector_entry_point")
    policy, first_end, fell = HalfRandom(env), np.zeros(6), np.zeros(6, dtype=bool)
    obs, _ = env.reset(seed=0)
    for step in range(1, 101):
        obs, _, terminated, truncated, _ = env.step(policy(obs))
        new = ((terminated | truncated) & (first_end == 0)).nonzero()
        first_end[new], fell[new] = step, terminated[new]
    first_end[first_end == 0] = 100  # the suite's time limit
    # The toppled envs start new episodes, some of which end before the standing ones' first
    # episodes do; only each env's first episode counts.
    assert fell[::2].all() and not fell[1::2].any() and first_end[::2].min() < 50
    metrics = record["metrics"]
    assert record["episodes"] == 6 and record["episode_steps"] == 100
    assert metrics["episode_length"] == pytest.approx(first_end.mean())
    assert metrics["fall_rate"] == pytest.approx(0.5)
    assert set(FEASIBILITY_METRICS) <= set(metrics)
    assert record["accuracy"]["velocity_error"]["at_end"] == metrics["accuracy_error"]


def test_same_policy_suite_and_backend_give_identical_numbers(tiny_suite, tmp_path):
    first = bench(tiny_suite, tmp_path / "a", policy="random", video=False)
    second = bench(tiny_suite, tmp_path / "b", policy="random", video=False)
    assert metrics_only(first) == metrics_only(second)
    assert first["aggregate"] == second["aggregate"]


def test_results_do_not_depend_on_the_number_of_jobs(tiny_suite, tmp_path):
    serial = bench(tiny_suite, tmp_path / "a", policy="random", video=False, jobs=1)
    parallel = bench(tiny_suite, tmp_path / "b", policy="random", video=False, jobs=2)
    assert metrics_only(serial) == metrics_only(parallel)


def test_scripted_policy_is_recorded_and_falls_back_to_zero_without_a_controller(
    tiny_suite, tmp_path
):
    results = bench(tiny_suite, tmp_path, policy="scripted", video=False)
    policies = {t["task"]: t["policy"] for t in results["tasks"]}
    assert policies == {
        "Arm7-Reach-v0": "scripted (ArmReachIK)",
        "Tall19-Squat-v0": "scripted (HumanoidSquat)",
    }
    walk = load_suite("skills").tasks[0]
    job = TaskJob(dataclasses.replace(walk, episodes=1, episode_seconds=0.1), "scripted")
    assert run_task(job)["policy"] == "zero (no scripted controller)"


def test_a_registered_policy_scheme_is_what_scores(tiny_suite, tmp_path):
    calls = []

    def load(argument, context):
        calls.append(argument)
        return LoadedPolicy(ZeroPolicy(context.env), f"held pose from {argument}")

    register_policy_scheme("held", load)
    results = bench(tiny_suite, tmp_path, policy="held:some/folder", video=False)
    assert set(calls) == {"some/folder"}  # checked up front, then built to play
    assert results["tasks"][0]["policy"] == "held pose from some/folder"


def test_a_policy_unfit_for_a_later_task_fails_before_any_task_is_scored(tmp_path, monkeypatch):
    tasks = [tiny_task(), tiny_task("skillgym/Tall19-Squat-v0", "tall19")]
    suite = load_suite(write_suite(tmp_path / "mixed.json", tasks))
    scored = []
    # the module, which the package's `bench` function shadows as an attribute
    monkeypatch.setattr(import_module("skillgym.benchmarks.runner"), "run_task", scored.append)
    reach = pretrained_path("skillgym/Arm7-Reach-v0")
    with pytest.raises(ValueError, match="not skillgym/Tall19-Squat-v0"):
        bench(suite, tmp_path, policy=f"checkpoint:{reach}", video=False)
    assert scored == []


def test_an_unknown_policy_spec_names_the_known_kinds(tiny_suite, tmp_path, capsys):
    argv = ["bench", "--suite", str(tmp_path / "x.json"), "--out", str(tmp_path)]
    write_suite(tmp_path / "x.json", [tiny_task()])
    assert main([*argv, "--policy", "learned:run1", "--no-video"]) == 1
    err = capsys.readouterr().err
    assert "learned:run1" in err and "checkpoint" in err and "onnx" in err
    assert "register_policy_scheme" in err


def test_bench_cli_writes_results_prints_a_table_and_a_video_per_task(tmp_path, capsys):
    suite = write_suite(tmp_path / "s.json", [tiny_task(episodes=2)])
    out = tmp_path / "run"
    argv = ["bench", "--suite", str(suite), "--policy", "scripted", "--out", str(out)]
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert "| Arm7-Reach-v0 | 2 |" in printed and "aggregate success" in printed
    results = read_results(out / "results.json")
    assert results["schema_version"] == 1 and results["backend"] == "cpu"
    assert results["suite"]["name"] == "tiny" and results["robots"] == ["arm7"]
    assert {"python", "mujoco", "skillgym"} <= set(results["software"])
    task = results["tasks"][0]
    assert task["metrics"]["success_rate"] == results["aggregate"]["success_rate"]
    frames = iio.imread(out / task["video"])
    assert frames.shape[0] >= 5 and frames.shape[-1] == 3
    assert np.ptp(frames) > 0  # a picture, not a blank


def test_episodes_override_reaches_every_task(tiny_suite, tmp_path):
    results = bench(tiny_suite, tmp_path, policy="zero", episodes=1, video=False)
    assert [t["episodes"] for t in results["tasks"]] == [1, 1]
    assert results["suite"]["episodes_override"] == 1


def test_mjx_backend_scores_every_episode_of_a_task_in_one_batch(tmp_path):
    pytest.importorskip("jax")
    suite = load_suite(write_suite(tmp_path / "s.json", [tiny_task(episodes=4)]))
    results = bench(suite, tmp_path / "run", policy="random", backend="mjx")
    task = results["tasks"][0]
    assert results["backend"] == "mjx" and "jax" in results["software"]
    assert task["episodes"] == 4 and task["metrics"]["episode_length"] == task["episode_steps"]
    assert iio.imread(tmp_path / "run" / task["video"]).shape[0] >= 5
