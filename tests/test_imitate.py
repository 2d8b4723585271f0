"""Imitation (DAgger) of a scripted controller writes the checkpoints training writes, and
resumes with its labels."""

import numpy as np
import pytest
import torch
from conftest import tiny_train_config

from skillgym.policies.checkpoint import describe, load_actor, read_checkpoint
from skillgym.training.imitate import DATASET, ImitateConfig, imitate
from skillgym.training.ppo import train

ENV = "skillgym/Arm7-Reach-v0"


def tiny_config(out, **kwargs):
    settings = dict(
        num_envs=4,
        num_threads=1,
        expert_rollouts=1,
        policy_rollouts=1,
        first_fit_steps=600,
        fit_steps=20,
        batch_size=256,
        eval_episodes=4,
        iterations=1,
    )
    return ImitateConfig(ENV, out, **{**settings, **kwargs})


def test_imitation_fits_the_controller_and_resumes_with_its_labels(tmp_path):
    latest = imitate(tiny_config(tmp_path))
    episode = 4 * 150  # 4 envs, Arm Reach's 3 s at 50 Hz
    labels = np.load(tmp_path / DATASET)
    assert int(labels["iteration"]) == 1 and len(labels["obs"]) == 2 * episode
    meta, _ = read_checkpoint(latest)
    assert meta.trainer == "dagger" and meta.env_steps == 2 * episode
    assert 0.0 <= meta.evaluation["success_rate"] <= 1.0

    actor, _ = load_actor(latest)  # the checkpoint every other command reads
    with torch.no_grad():
        predicted = actor.act(labels["obs"])
    error = np.mean((predicted - np.clip(labels["action"], -1, 1)) ** 2)
    assert error < 0.5 * np.var(labels["action"])  # an unfitted network: above the variance

    imitate(tiny_config(tmp_path, iterations=2), resume=True)
    labels = np.load(tmp_path / DATASET)
    assert int(labels["iteration"]) == 2 and len(labels["obs"]) == 3 * episode
    meta, _ = read_checkpoint(latest)
    assert meta.env_steps == 3 * episode and meta.hyperparameters["iterations"] == 2


def test_imitation_needs_a_scripted_controller(tmp_path):
    with pytest.raises(ValueError, match="no scripted controller"):
        imitate(ImitateConfig("skillgym/Tall19-Walk-v0", tmp_path, num_envs=2))


def test_a_new_imitation_run_in_a_folder_that_holds_one_is_refused(tmp_path):
    imitate(tiny_config(tmp_path))
    with pytest.raises(ValueError, match="holds a run already: --resume"):
        imitate(tiny_config(tmp_path))


def test_resuming_an_imitation_run_that_is_not_there_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="no imitation run"):
        imitate(tiny_config(tmp_path), resume=True)


def test_ppo_fine_tunes_an_imitated_policy_in_the_network_it_was_imitated_with(tmp_path):
    latest = imitate(tiny_config(tmp_path / "dagger", net_arch=[64, 64, 64]))
    config = tiny_train_config(
        tmp_path / "ppo",
        total_steps=3 * 600 + 512,
        privileged=False,
        init_from=str(latest),
        log_std_init=-2.0,
    )
    meta = train(config)
    assert meta.net_arch == [64, 64, 64]
    assert meta.started_from["weights_sha256"] == describe(latest)["weights_sha256"]
