"""The privileges ablation compares runs by what their checkpoints say they are."""

import imageio.v3 as iio
import numpy as np
import pytest
from torch.utils.tensorboard import SummaryWriter

from skillgym.cli import main
from skillgym.policies.checkpoint import CheckpointMetadata, build_policy, save_checkpoint
from skillgym.reports.ablation import (
    first_reaching,
    level_history,
    markdown_table,
    read_run,
    report,
)

ENV = "skillgym/Arm7-Lift-v0"


def fake_run(
    path, privileged: bool, seed: int, success: list[float], every: int = 1000, evaluation=None
):
    """A run folder as `skillgym train` leaves it: a checkpoint and an evaluation log."""
    meta = CheckpointMetadata(
        env_id=ENV,
        obs_size=4,
        action_size=2,
        seed=seed,
        env_steps=every * len(success),
        hyperparameters={"privileged": privileged},
        evaluation=evaluation or {},
    )
    save_checkpoint(path / "latest", meta, build_policy(meta), np.zeros(4), np.ones(4))
    with SummaryWriter(path / "tensorboard" / "PPO_1") as writer:
        for i, rate in enumerate(success, start=1):
            writer.add_scalar("eval/success_rate", rate, i * every)
    return path


@pytest.fixture
def runs(tmp_path):
    curves = {
        (True, 0): [0.1, 0.6, 0.9],
        (True, 1): [0.0, 0.4, 0.8],
        (False, 0): [0.0, 0.1, 0.2],
        (False, 1): [0.0, 0.0, 0.1],
    }
    return [
        fake_run(tmp_path / f"{'p' if privileged else 'n'}{seed}", privileged, seed, curve)
        for (privileged, seed), curve in curves.items()
    ]


def test_a_run_is_read_from_its_checkpoint_and_evaluation_log(runs):
    run = read_run(runs[0])
    assert (run.env_id, run.variant, run.seed) == (ENV, "privileged", 0)
    np.testing.assert_array_equal(run.steps, [1000, 2000, 3000])
    np.testing.assert_allclose(run.success, [0.1, 0.6, 0.9], atol=1e-6)
    assert first_reaching(run) == 2000 and first_reaching(read_run(runs[2])) is None


def test_table_has_one_row_per_variant_with_seed_statistics(runs):
    table = markdown_table([read_run(path) for path in runs])
    plain, privileged = table.splitlines()[2:]
    assert "| privileged | 0, 1 | 3,000 | 0.85 ± 0.05 | 0.85 | 2,500 (2/2 seeds) |" in privileged
    assert "| plain | 0, 1 | 3,000 | 0.15 ± 0.05 | 0.15 | never |" in plain


def test_ablation_command_writes_a_plot_and_the_table(runs, tmp_path, capsys):
    assert main(["ablation", *map(str, runs), "--out", str(tmp_path / "report")]) == 0
    image = iio.imread(tmp_path / "report" / "privileges.png")
    assert image.ndim == 3 and image.shape[0] > 200 and image.std() > 0
    assert "| privileged |" in capsys.readouterr().out
    assert (tmp_path / "report" / "privileges.md").read_text().count("| skillgym/") == 2


def test_a_folder_without_a_run_is_a_clear_error(tmp_path, capsys):
    assert main(["ablation", str(tmp_path), "--out", str(tmp_path / "report")]) == 1
    assert "is not a checkpoint" in capsys.readouterr().err


def test_a_run_that_does_not_record_its_privileges_is_a_clear_error(tmp_path):
    path = fake_run(tmp_path / "run", True, 0, [0.5])
    meta_path = path / "latest" / "metadata.json"
    meta_path.write_text(meta_path.read_text().replace('"privileged": true', '"lr": 1'))
    with pytest.raises(ValueError, match="whether it trained with privileges"):
        read_run(path)


def test_a_run_without_evaluations_is_a_clear_error(tmp_path):
    path = fake_run(tmp_path / "run", True, 0, [])
    with pytest.raises(ValueError, match="no evaluation"):
        report([path], tmp_path / "report")


def test_runs_are_compared_at_the_budget_every_run_reached(tmp_path):
    longer = fake_run(tmp_path / "p0", True, 0, [0.1, 0.6, 0.9])
    shorter = fake_run(tmp_path / "n0", False, 0, [0.0, 0.3])
    report([longer, shorter], tmp_path / "report")
    plain, privileged = (tmp_path / "report" / "privileges.md").read_text().splitlines()[2:]
    assert "| privileged | 0 | 2,000 | 0.60 ± 0.00 | 0.60 | 2,000 (1/1 seeds) |" in privileged
    assert "| plain | 0 | 2,000 | 0.30 ± 0.00 | 0.30 | never |" in plain


def test_a_run_without_an_evaluation_within_the_common_budget_is_a_clear_error(tmp_path):
    sparse = fake_run(tmp_path / "p0", True, 0, [0.2, 0.5], every=2000)
    short = fake_run(tmp_path / "n0", False, 0, [0.1], every=1500)
    with pytest.raises(ValueError, match="no evaluation within 1,500 env steps"):
        report([sparse, short], tmp_path / "report")


def test_a_step_evaluated_again_after_a_resume_keeps_the_later_value(tmp_path):
    path = fake_run(tmp_path / "run", True, 0, [0.1, 0.2])
    with SummaryWriter(path / "tensorboard" / "PPO_2") as writer:  # the resumed session
        writer.add_scalar("eval/success_rate", 0.7, 2000)
        writer.add_scalar("eval/success_rate", 0.8, 3000)
    run = read_run(path)
    np.testing.assert_array_equal(run.steps, [1000, 2000, 3000])
    np.testing.assert_allclose(run.success, [0.1, 0.7, 0.8], atol=1e-6)


def test_a_composed_run_is_its_controller_and_the_table_shows_its_final_metrics(tmp_path):
    metrics = {"height_error": 0.05, "falls": 0.25, "energy": 31.0}
    path = fake_run(tmp_path / "b0", False, 0, [0.2, 0.5], evaluation={"metrics": metrics})
    meta_path = path / "latest" / "metadata.json"
    controller = '"controller": {"mode": "blend", "residual": false, "skills": []}'
    meta_path.write_text(meta_path.read_text().replace('"controller": {}', controller))
    run = read_run(path)
    assert run.variant == "blend, absolute goals"
    row = markdown_table([run]).splitlines()[2]
    assert row.endswith("| 0.05 | 0.25 | 31 |")


def test_a_run_trained_past_the_common_budget_shows_its_metrics_at_that_budget(tmp_path):
    from skillgym.reports.ablation import at_common_budget

    short = fake_run(tmp_path / "s", False, 0, [0.2, 0.5], evaluation={"metrics": {"falls": 0.1}})
    final = {"wrist_error": 0.02, "falls": 0.0}
    long = fake_run(tmp_path / "l", False, 1, [0.2, 0.5, 0.9], evaluation={"metrics": final})
    with SummaryWriter(long / "tensorboard" / "PPO_1") as writer:
        for step, falls in [(1000, 0.5), (2000, 0.3), (3000, 0.0)]:
            writer.add_scalar("eval/falls", falls, step)
            writer.add_scalar("eval/wrist_error", 0.1, step)
    cut = {run.seed: run for run in at_common_budget([read_run(short), read_run(long)])}
    assert cut[1].steps[-1] == 2000
    assert cut[1].metrics == {"wrist_error": pytest.approx(0.1), "falls": pytest.approx(0.3)}
    assert list(cut[1].metrics) == ["wrist_error", "falls"]  # the accuracy error stays first
    assert cut[0].metrics == {"falls": 0.1}  # not cut: its latest evaluation's


def test_a_privileged_run_s_curriculum_is_summarized_level_by_level(tmp_path):
    path = fake_run(tmp_path / "p0", True, 0, [0.0, 0.2, 0.6])
    with SummaryWriter(path / "tensorboard" / "PPO_1") as writer:
        for step, level, force, success in [
            (100, 0, 0.85, 0.0),
            (900, 0, 0.85, 0.1),
            (1000, 1, 0.76, 0.0),
            (2500, 2, 0.69, 0.3),
            (3000, 2, 0.69, 0.5),
        ]:
            writer.add_scalar("curriculum/privileges_level", level, step)
            writer.add_scalar("curriculum/object_force", force, step)
            writer.add_scalar("rollout/success_rate", success, step)
    history = level_history(path)
    assert [(e["level"], e["entered"], e["env_steps"]) for e in history] == [
        (0, 100, 900),
        (1, 1000, 1500),
        (2, 2500, 500),
    ]
    assert history[1]["scales"] == {"object_force": pytest.approx(0.76)}
    assert [e["training_success"] for e in history] == pytest.approx([0.05, 0.0, 0.4])
    report([path], tmp_path / "report")
    text = (tmp_path / "report" / "privileges.md").read_text()
    assert "training success first above 0 at level 0" in text
    assert "| 1 | 1,000 | 1,500 | object_force 0.76 |" in text
