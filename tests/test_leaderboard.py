"""The leaderboard: ranked Markdown and a static page, checked in a real headless browser."""

import copy
import json
import os
import re
import shutil
import subprocess
from html.parser import HTMLParser

import pytest

from skillgym.benchmarks import bench, load_suite, write_leaderboard
from skillgym.cli import main

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")
def results_dirs(tmp_path_factory):
    """Three runs of one suite: a real one with a video, and two copies with other scores."""
    root = tmp_path_factory.mktemp("runs")
    suite_file = root / "suite.json"
    task = {"env_id": "skillgym/Arm7-Reach-v0", "robot": "arm7", "episodes": 2, "seed": 0}
    suite_file.write_text(
        json.dumps(
            {"schema_version": 1, "name": "tiny", "tasks": [{**task, "episode_seconds": 1.0}]}
        )
    )
    real = bench(load_suite(suite_file), root / "scripted", policy="scripted")
    assert real["aggregate"]["success_rate"] == 1.0  # inverse kinematics reaches within 1 s
    dirs = {"scripted": root / "scripted"}
    for name, success in (("middling", 0.5), ("weak", 0.0)):
        variant = copy.deepcopy(real)
        variant["name"] = name
        variant["tasks"][0]["metrics"]["success_rate"] = success
        variant["tasks"][0]["video"] = None
        variant["aggregate"]["success_rate"] = success
        (root / name).mkdir()
        (root / name / "results.json").write_text(json.dumps(variant))
        dirs[name] = root / name
    return dirs


def shuffled(dirs):
    return [str(dirs["weak"] / "results.json"), str(dirs["scripted"]), str(dirs["middling"])]


def test_leaderboard_ranks_runs_by_aggregate_success_in_markdown(results_dirs, tmp_path, capsys):
    assert main(["leaderboard", *shuffled(results_dirs), "--out", str(tmp_path)]) == 0
    lines = capsys.readouterr().out.splitlines()
    rows = [line for line in lines if line.startswith("| ") and "---" not in line]
    assert rows[0] == "| rank | name | success | tasks | Arm7-Reach-v0 | date; software |"
    assert [row.split(" | ")[1] for row in rows[1:]] == ["scripted", "middling", "weak"]
    video = os.path.relpath(results_dirs["scripted"] / "videos" / "Arm7-Reach-v0.mp4", tmp_path)
    scored = json.loads((results_dirs["scripted"] / "results.json").read_text())
    error = f"{scored['tasks'][0]['metrics']['accuracy_error']:.3g}"
    assert rows[1].startswith(f"| 1 | scripted | 100% | 1/1 | [100%]({video}) · {error} | ")
    assert f"| {scored['created'][:10]}; python " in rows[1]
    assert rows[3].startswith(f"| 3 | weak | 0% | 1/1 | 0% · {error} | ")


def test_runs_of_another_episode_count_suite_version_or_physics_are_ranked_apart(
    results_dirs, tmp_path, capsys
):
    runs = [str(results_dirs["scripted"])]
    for name, suite_change, software_change in (
        ("short", {"episodes_override": 3}, {}),
        ("edited", {"sha256": "f" * 64}, {}),
        ("older-physics", {}, {"mujoco": "0.0.1"}),
    ):
        data = json.loads((results_dirs["weak"] / "results.json").read_text())
        data["name"] = name
        data["suite"].update(suite_change)
        data["software"].update(software_change)
        (tmp_path / name).mkdir()
        (tmp_path / name / "results.json").write_text(json.dumps(data))
        runs.append(str(tmp_path / name))
    assert main(["leaderboard", *runs, "--out", str(tmp_path / "board")]) == 0
    out = capsys.readouterr().out
    headings = [line for line in out.splitlines() if line.startswith("## ")]
    assert len(headings) == 4
    scored = json.loads((results_dirs["scripted"] / "results.json").read_text())
    physics = f"mujoco {scored['software']['mujoco']}"
    assert f"## tiny (cpu, {physics}, 3 episodes per task; suite " in out
    assert f"## tiny (cpu, {physics}; suite ffffffff)" in out
    assert "## tiny (cpu, mujoco 0.0.1; suite " in out


def test_results_of_another_schema_version_are_refused(results_dirs, tmp_path):
    data = json.loads((results_dirs["weak"] / "results.json").read_text())
    data["schema_version"] = 99
    (tmp_path / "results.json").write_text(json.dumps(data))
    with pytest.raises(ValueError, match="schema version 99"):
        write_leaderboard([tmp_path / "results.json"], tmp_path / "board")


def write_variant(results_dirs, folder, change):
    """A copy of the weak run's results, changed in place by `change`, in `folder`."""
    data = json.loads((results_dirs["weak"] / "results.json").read_text())
    change(data)
    folder.mkdir(parents=True)
    (folder / "results.json").write_text(json.dumps(data))
    return str(folder)


def board_rows(paths, out, capsys):
    assert main(["leaderboard", *paths, "--out", str(out)]) == 0
    lines = capsys.readouterr().out.splitlines()
    return [line.split(" | ")[:3] for line in lines if line.startswith("| ") and "---" not in line]


def test_a_forged_aggregate_is_not_believed(results_dirs, tmp_path, capsys):
    def forge(data):
        data["name"] = "forged"
        data["aggregate"]["success_rate"] = 1.0

    forged = write_variant(results_dirs, tmp_path / "forged", forge)
    rows = board_rows([forged, str(results_dirs["middling"])], tmp_path / "board", capsys)
    assert rows[1:] == [["| 1", "middling", "50%"], ["| 2", "forged", "0%"]]


def test_a_partial_run_never_ranks_above_a_complete_one(results_dirs, tmp_path, capsys):
    def two_task_suite(scores):
        def change(data):
            data["name"] = f"{len(scores)} of 2"
            data["suite"]["tasks"] = 2
            data["tasks"] = [
                {**data["tasks"][0], "task": f"T{i}", "metrics": {**data["tasks"][0]["metrics"]}}
                for i in range(len(scores))
            ]
            for task, score in zip(data["tasks"], scores, strict=True):
                task["metrics"]["success_rate"] = score
            data.pop("aggregate")

        return change

    partial = write_variant(results_dirs, tmp_path / "partial", two_task_suite([1.0]))
    complete = write_variant(results_dirs, tmp_path / "complete", two_task_suite([0.3, 0.2]))
    rows = board_rows([partial, complete], tmp_path / "board", capsys)
    # The missing task counts as 0, and the partial run is listed unranked, after.
    assert rows[1:] == [["| 1", "2 of 2", "25%"], ["| —", "1 of 2", "50%"]]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.pop("tasks"), "tasks is missing"),
        (lambda d: d.update(tasks=[]), "tasks should be a non-empty list"),
        (lambda d: d["tasks"][0]["metrics"].update(success_rate="1"), "success_rate should be"),
        (lambda d: d["tasks"][0]["metrics"].update(success_rate=3.0), "in \\[0, 1\\]"),
        (lambda d: d["tasks"].append(d["tasks"][0]), "lists Arm7-Reach-v0 more than once"),
        (lambda d: d["suite"].update(tasks=0), "suite.tasks should be a count > 0"),
        (lambda d: d.update(backend="gpu"), "backend should be 'cpu' or 'mjx'"),
        (lambda d: d.update(tasks=["x"]), "tasks\\[0\\] should be an object, not 'x'"),
    ],
)
def test_a_malformed_results_file_gets_an_error_naming_file_and_field(
    results_dirs, tmp_path, capsys, change, message
):
    bad = write_variant(results_dirs, tmp_path / "bad", change)
    assert main(["leaderboard", bad, "--out", str(tmp_path / "board")]) == 1
    err = capsys.readouterr().err
    assert str(tmp_path / "bad" / "results.json") in err
    assert re.search(message, err), err
    assert "Traceback" not in err


class TableRows(HTMLParser):
    """Rows of the leaderboard table as a browser rendered them: cell texts and link targets."""

    def __init__(self):
        super().__init__()
        self.rows, self.links, self._in_cell = [], [], False

    def handle_starttag(self, tag, attrs):
        if tag == "tr":
            self.rows.append([])
            self.links.append([])
        elif tag in ("td", "th"):
            self.rows[-1].append("")
            self._in_cell = True
        elif tag == "a":
            self.links[-1].append(dict(attrs)["href"])

    def handle_endtag(self, tag):
        if tag in ("td", "th"):
            self._in_cell = False

    def handle_data(self, data):
        if self._in_cell:
            self.rows[-1][-1] += data.strip()


@pytest.mark.skipif(CHROMIUM is None, reason="no chromium binary (apt-get install chromium)")
def test_leaderboard_page_renders_ranked_rows_with_video_links_in_chromium(results_dirs, tmp_path):
    _, page = write_leaderboard(shuffled(results_dirs), tmp_path / "board")
    profile = tmp_path / "profile"
    dom = subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            f"--user-data-dir={profile}",
            "--dump-dom",
            page.resolve().as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    table = TableRows()
    table.feed(dom)
    assert table.rows[0] == ["rank", "name", "success", "tasks", "Arm7-Reach-v0", "date; software"]
    assert [row[:3] for row in table.rows[1:]] == [
        ["1", "scripted", "100%"],
        ["2", "middling", "50%"],
        ["3", "weak", "0%"],
    ]
    assert len(table.links[1]) == 1 and table.links[1][0].endswith("videos/Arm7-Reach-v0.mp4")
    assert (page.parent / table.links[1][0]).resolve().is_file()
    assert table.links[2] == table.links[3] == []
