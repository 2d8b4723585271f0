"""Every trainer's run folder: one run per folder, resumed only by its own env, and a `best/`
that only a score at least as good replaces."""

import numpy as np
import pytest
import torch

from skillgym.cli import main
from skillgym.evaluation import evaluate
from skillgym.policies.checkpoint import (
    CheckpointMetadata,
    build_policy,
    read_checkpoint,
    read_metadata,
)
from skillgym.training.imitate import DATASET, ImitateConfig, imitate
from skillgym.training.ppo import run_config
from skillgym.training.run_folder import EVAL_SEED, RunFolder

ENV, OTHER = "skillgym/Arm7-Reach-v0", "skillgym/Arm7-Push-v0"


def save(
    run: RunFolder, success_rate: float, seed: int = 0, curriculum: dict | None = None
) -> dict[str, torch.Tensor]:
    """Save a checkpoint of a fresh network scored `success_rate`; return its weights."""
    torch.manual_seed(seed)
    meta = CheckpointMetadata(env_id=run.env_id, obs_size=29, action_size=8)
    meta.curriculum = curriculum or {}
    meta.evaluation = {"success_rate": success_rate}
    policy = build_policy(meta)
    run.save(meta, policy, np.zeros(29), np.ones(29), {"optimizer": {}})
    return policy.state_dict()


def weights(path) -> dict[str, torch.Tensor]:
    return read_checkpoint(path)[1]["policy"]


def same(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> bool:
    return all(torch.equal(a[k], b[k]) for k in a)


def test_a_run_with_privileges_keeps_its_last_checkpoint_at_each_curriculum_level(tmp_path):
    run = RunFolder(tmp_path, OTHER)
    first = save(run, 0.1, seed=0, curriculum={"privileges": {"level": 0}})
    last_at_0 = save(run, 0.2, seed=1, curriculum={"privileges": {"level": 0}})
    at_1 = save(run, 0.0, seed=2, curriculum={"privileges": {"level": [1, 1, 2, 0]}})
    assert sorted(p.name for p in (tmp_path / "levels").iterdir()) == ["0", "1"]
    assert same(last_at_0, weights(tmp_path / "levels" / "0")) and not same(first, last_at_0)
    assert same(at_1, weights(tmp_path / "levels" / "1"))  # per-env levels: their mean, rounded
    assert read_metadata(tmp_path / "levels" / "1").curriculum["privileges"]["level"][2] == 2


def test_a_run_without_privileges_keeps_no_levels(tmp_path):
    save(RunFolder(tmp_path, ENV), 0.5)
    assert not (tmp_path / "levels").exists()


def test_a_new_run_claims_an_absent_or_empty_folder(tmp_path):
    assert RunFolder(tmp_path / "a" / "b", ENV).claim(resume=False) is None
    assert (tmp_path / "a" / "b").is_dir()
    assert RunFolder(tmp_path / "a" / "b", ENV).claim(resume=False) is None


def test_a_new_run_refuses_a_folder_that_is_not_empty_and_leaves_it_alone(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(ValueError, match="is not empty"):
        RunFolder(tmp_path, ENV).claim(resume=False)
    assert (tmp_path / "notes.txt").read_text() == "mine"
    run = RunFolder(tmp_path / "run", ENV)
    run.claim(resume=False)
    saved = save(run, 0.5)
    with pytest.raises(ValueError, match="holds a run already: --resume continues it"):
        RunFolder(tmp_path / "run", ENV).claim(resume=False)
    assert same(saved, weights(run.latest))


def test_resume_returns_the_latest_checkpoints_metadata_and_settings(tmp_path):
    run = RunFolder(tmp_path, ENV)
    torch.manual_seed(0)
    meta = CheckpointMetadata(env_id=ENV, obs_size=29, action_size=8, env_steps=4096)
    meta.hyperparameters, meta.evaluation = {"learning_rate": 1e-4}, {"success_rate": 0.25}
    run.save(meta, build_policy(meta), np.zeros(29), np.ones(29))
    recorded = RunFolder(tmp_path, ENV).claim(resume=True)
    assert recorded == read_metadata(tmp_path / "latest")
    assert recorded.env_steps == 4096 and recorded.hyperparameters == {"learning_rate": 1e-4}


def test_resume_without_a_checkpoint_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="--resume: no checkpoint at"):
        RunFolder(tmp_path, ENV).claim(resume=True)


def test_resume_refuses_the_run_of_another_env_naming_both(tmp_path):
    save(RunFolder(tmp_path, ENV), 0.5)
    with pytest.raises(ValueError, match=f"a run of {ENV}, not of {OTHER}") as error:
        RunFolder(tmp_path, OTHER).claim(resume=True)
    assert "\n" not in str(error.value)
    with pytest.raises(ValueError, match=f"a run of {ENV}, not of {OTHER}"):
        run_config(OTHER, tmp_path, resume=True)  # what `skillgym train --resume` reads first


def test_imitate_resume_on_another_envs_run_is_a_one_line_error(tmp_path, capsys):
    save(RunFolder(tmp_path, ENV), 0.5)
    np.savez(tmp_path / DATASET, iteration=1, obs=np.zeros((1, 29)), action=np.zeros((1, 8)))
    with pytest.raises(ValueError, match=f"a run of {ENV}, not of {OTHER}"):
        imitate(ImitateConfig(OTHER, tmp_path, num_envs=2), resume=True)
    assert main(["imitate", OTHER, "--resume", "--out", str(tmp_path)]) == 1
    (line,) = capsys.readouterr().err.splitlines()
    assert ENV in line and OTHER in line


def test_best_is_replaced_only_by_a_score_at_least_as_good(tmp_path):
    run = RunFolder(tmp_path, ENV)
    assert run.best_success_rate() == -1.0
    first = save(run, 0.5, seed=0)
    assert same(first, weights(run.best)) and run.best_success_rate() == 0.5
    worse = save(run, 0.3, seed=1)
    assert same(worse, weights(run.latest))
    assert same(first, weights(run.best)) and run.best_success_rate() == 0.5
    better = save(run, 0.7, seed=2)
    assert same(better, weights(run.best)) and run.best_success_rate() == 0.7
    tie = save(run, 0.7, seed=3)  # the later of two equal scores is kept
    assert same(tie, weights(run.best))
    assert read_checkpoint(run.best)[0].evaluation == {"success_rate": 0.7}


def test_a_kept_evaluation_env_scores_as_a_fresh_one_every_time(tmp_path):
    run = RunFolder(tmp_path, ENV)
    env = run.evaluation_env(3, num_threads=1)

    def policy(obs):
        return np.tanh(np.asarray(obs)[:, :8])

    fresh = evaluate(ENV, lambda _env: policy, 3, EVAL_SEED, num_threads=1)
    assert run.evaluate(policy, env) == fresh
    assert run.evaluate(policy, env) == fresh
    env.close()
