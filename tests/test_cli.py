"""The `skillgym` command: list, demo (with an MP4) and speed."""

import json
import subprocess
import sys

import imageio.v3 as iio
import pytest

import skillgym
from skillgym.cli import main


def test_list_shows_every_env_with_sizes_and_success_rule(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    for env_id in skillgym.registered():
        assert env_id in out
    assert "within 2 cm" in out and "tall19" in out


def test_demo_plays_the_shipped_checkpoint_writes_a_video_and_prints_a_summary(tmp_path, capsys):
    args = ["demo", "skillgym/Arm7-Reach-v0", "--episodes", "1", "--out", str(tmp_path)]
    assert main([*args, "--video-size", "320x240"]) == 0
    out = capsys.readouterr().out
    assert "checkpoint (skillgym/Arm7-Reach-v0" in out and "success 100%" in out
    frames = iio.imread(tmp_path / "Arm7-Reach-v0.mp4")
    assert frames.shape[0] >= 60 and frames.shape[1:] == (240, 320, 3)


def test_demo_plays_the_policy_it_is_given(tmp_path, capsys):
    args = ["demo", "skillgym/Arm7-Reach-v0", "--episodes", "1", "--out", str(tmp_path)]
    assert main([*args, "--policy", "zero", "--video-size", "160x120"]) == 0
    out = capsys.readouterr().out
    assert "zero" in out and "success 0%" in out


def test_eval_under_a_changed_task_setting_scores_that_task_and_records_the_setting(tmp_path):
    # Episodes shorter than the 0.5 s the gripper must hold on its target: none can succeed.
    args = ["eval", "skillgym/Arm7-Reach-v0", "--episodes", "4", "--json", str(tmp_path / "r")]
    assert main([*args, "--task-config", "episode_seconds=0.4"]) == 0
    result = json.loads((tmp_path / "r").read_text())
    assert result["success_rate"] == 0.0 and result["task_config"] == {"episode_seconds": 0.4}
    assert main([*args, "--task-config", "nope=1"]) == 1


def test_a_malformed_video_size_is_refused_before_anything_runs(capsys):
    with pytest.raises(SystemExit):
        main(["demo", "skillgym/Arm7-Reach-v0", "--video-size", "640by480"])
    assert "expected WIDTHxHEIGHT such as 640x480" in capsys.readouterr().err


def test_progress_written_into_a_log_is_a_few_lines_not_one_per_update(tmp_path):
    log = tmp_path / "demo.log"
    with log.open("w") as stderr:
        subprocess.run(
            [sys.executable, "-m", "skillgym.cli", "demo", "skillgym/Arm7-Reach-v0"]
            + ["--episodes", "1", "--out", str(tmp_path), "--video-size", "160x120"],
            stderr=stderr,
            stdout=subprocess.DEVNULL,
            check=True,
            timeout=300,
        )
    redraws = log.read_text().count("\r")
    assert redraws <= 5, log.read_text()


def test_demo_of_an_unknown_env_fails_with_a_clear_message(capsys):
    assert main(["demo", "skillgym/Nope-Walk-v0"]) == 1
    assert "Nope-Walk" in capsys.readouterr().err


@pytest.mark.parametrize("argv", [["speed", "skillgym/Arm7-Reach-v0", "--num-envs", "4"]])
def test_speed_prints_a_table_with_the_raw_physics_ratio(argv, capsys):
    assert main([*argv, "--steps", "20", "--repeats", "3", "--no-peer"]) == 0
    row = next(line for line in capsys.readouterr().out.splitlines() if "Arm7-Reach" in line)
    ratio = float(row.strip("|").split("|")[-1])
    assert 0.0 < ratio < 2.0


@pytest.mark.parametrize(
    "argv",
    [
        ["train", "skillgym/Arm7-Reach-v0", "--eval-every", "0"],
        ["eval", "skillgym/Arm7-Reach-v0", "--episodes", "0"],
        ["speed", "--steps", "-5"],
    ],
)
def test_a_count_below_one_is_refused_before_anything_runs(argv, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == 2
    assert "must be a positive integer" in capsys.readouterr().err
