"""Training writes checkpoints that load without pickles, resume where they stopped, and score."""

import hashlib
import json
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
import torch
from conftest import make_vec, tiny_train_config

from skillgym.cli import main
from skillgym.evaluation import evaluate
from skillgym.policies.checkpoint import (
    PRETRAINED_DIR,
    CheckpointMetadata,
    build_policy,
    load_actor,
    pretrained_path,
    publish_checkpoint,
    read_checkpoint,
    read_training_state,
    save_checkpoint,
)
from skillgym.reports.ablation import read_run
from skillgym.training.ppo import (
    TrainConfig,
    adapted_learning_rate,
    run_config,
    train,
)

ENV = "skillgym/Arm7-Reach-v0"


def saved_policy(path, seed=0):
    torch.manual_seed(seed)
    meta = CheckpointMetadata(env_id=ENV, obs_size=29, action_size=8, privileged_action_size=2)
    policy = build_policy(meta)
    mean, var = np.linspace(-1, 1, 29), np.linspace(0.5, 2, 29)
    save_checkpoint(path, meta, policy, mean, var)
    return policy, mean, var


def test_checkpoint_round_trip_gives_the_same_normalized_robot_actions(tmp_path):
    policy, mean, var = saved_policy(tmp_path / "ckpt")
    actor, meta = load_actor(tmp_path / "ckpt")
    obs = np.random.default_rng(0).normal(size=(5, 29))
    x = torch.as_tensor(np.clip((obs - mean) / np.sqrt(var + 1e-8), -10, 10), dtype=torch.float32)
    with torch.no_grad():
        expected = policy.get_distribution(x).distribution.mean[:, :8].clamp(-1, 1).numpy()
    np.testing.assert_allclose(actor.act(obs), expected, atol=1e-6)
    assert actor.act(obs).shape == (5, 8)  # privileged channels dropped
    assert meta.policy_action_size == 10


def test_a_failed_save_leaves_the_previous_checkpoint_readable(tmp_path, monkeypatch):
    saved_policy(tmp_path / "ckpt", seed=0)
    before = read_checkpoint(tmp_path / "ckpt")[1]["policy"]

    def crash(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(torch, "save", crash)
    with pytest.raises(OSError, match="disk full"):
        saved_policy(tmp_path / "ckpt", seed=1)
    after = read_checkpoint(tmp_path / "ckpt")[1]["policy"]
    assert all(torch.equal(before[k], after[k]) for k in before)


def test_reading_a_folder_that_is_not_a_checkpoint_names_what_is_missing(tmp_path):
    with pytest.raises(FileNotFoundError, match="metadata.json"):
        read_checkpoint(tmp_path)


def test_training_evaluates_checkpoints_and_resume_continues_the_step_count(tmp_path):
    meta = train(tiny_train_config(tmp_path))
    assert meta.env_steps >= 1024
    assert set(meta.evaluation) >= {"env_id", "episodes", "success_rate", "metrics"}
    assert meta.evaluation["episodes"] == 4
    first = meta.wall_seconds
    resumed = train(tiny_train_config(tmp_path, total_steps=2048), resume=True)
    assert resumed.env_steps >= 2048 and resumed.env_steps < 2048 + 1024
    assert resumed.wall_seconds > first  # time accumulates across runs
    assert (tmp_path / "best" / "weights.pt").exists()
    assert list((tmp_path / "tensorboard").rglob("events.out.tfevents.*"))
    run = read_run(tmp_path)  # what `skillgym ablation` reads
    assert run.env_id == ENV and run.variant == "plain" and run.steps[-1] <= resumed.env_steps
    assert len(run.steps) >= 2 and np.all((run.success >= 0) & (run.success <= 1))


def test_resume_keeps_the_runs_own_settings_unless_told_otherwise(tmp_path):
    train(
        tiny_train_config(
            tmp_path, privileged=False, learning_rate=1e-4, kl_target=0.05, total_steps=512
        )
    )
    kept = run_config(ENV, tmp_path, resume=True)
    assert not kept.privileged and kept.learning_rate == 1e-4 and kept.num_envs == 8
    assert kept.kl_target == 0.05
    changed = run_config(ENV, tmp_path, resume=True, learning_rate=5e-5, total_steps=2048)
    assert changed.learning_rate == 5e-5 and changed.total_steps == 2048 and not changed.privileged
    fresh = run_config(ENV, tmp_path)  # without --resume a run starts from the defaults
    default = TrainConfig(ENV, tmp_path)
    assert (fresh.learning_rate, fresh.num_envs) == (default.learning_rate, default.num_envs)


def test_train_command_with_per_env_levels_saves_a_level_per_env_and_resumes_with_them(tmp_path):
    args = ["train", "skillgym/Arm7-Push-v0", "--out", str(tmp_path), "--per-env-levels"]
    sizes = ["--num-envs", "8", "--num-threads", "1", "--rollout-steps", "64"]
    budget = ["--eval-every", "512", "--eval-episodes", "2"]
    assert main([*args, *sizes, *budget, "--total-steps", "512"]) == 0
    meta = read_checkpoint(tmp_path / "latest")[0]
    assert len(meta.curriculum["privileges"]["level"]) == 8
    assert run_config("skillgym/Arm7-Push-v0", tmp_path, resume=True).per_env_levels


def test_the_curriculum_gates_a_run_is_given_are_the_ones_its_curriculum_applies(tmp_path):
    config = TrainConfig("skillgym/Tall19-Walk-v0", tmp_path, promote_at=0.5, widen_below=0.15)
    curriculum = config.curriculum(make_vec("skillgym/Tall19-Walk-v0", 2, privileged=True))
    gates = {term.name: term.threshold for term in curriculum.terms}
    assert gates == {"privileges": 0.5, "commands": 0.15}
    assert config.hyperparameters()["widen_below"] == 0.15  # recorded, so a resume keeps it


@pytest.mark.parametrize("gate", [{"promote_at": 1.0}, {"promote_at": -0.1}, {"widen_below": 0}])
def test_a_curriculum_gate_out_of_range_is_refused_before_a_run_folder_exists(tmp_path, gate):
    with pytest.raises(ValueError, match=next(iter(gate))):
        TrainConfig(ENV, tmp_path / "run", **gate)
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("kl_target", [0.0, -0.01])
def test_a_kl_target_that_is_not_positive_is_refused(tmp_path, kl_target):
    with pytest.raises(ValueError, match="kl-target"):
        TrainConfig(ENV, tmp_path / "run", kl_target=kl_target)
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize(
    ("kl", "rate"), [(0.05, 2e-4), (0.015, 3e-4), (0.001, 4.5e-4), (9.0, 3e-4 / 1.5)]
)
def test_the_step_size_shrinks_above_twice_the_kl_target_and_grows_below_half(kl, rate):
    assert adapted_learning_rate(3e-4, kl, 0.01) == pytest.approx(rate)


def test_the_step_size_stays_within_its_bounds():
    assert adapted_learning_rate(1e-5, 1.0, 0.01) == 1e-5
    assert adapted_learning_rate(1e-2, 0.0, 0.01) == 1e-2


def _device_update(kl_target, learning_rate=5e-3):
    """One device-trainer update of a small policy whose large step moves it far in KL."""
    from stable_baselines3.common.policies import ActorCriticPolicy

    from skillgym.training.ppo_mjx import Rollout, ppo_update

    torch.manual_seed(0)
    box = gym.spaces.Box(-1.0, 1.0, (3,))
    policy = ActorCriticPolicy(box, gym.spaces.Box(-1.0, 1.0, (2,)), lambda _: learning_rate)
    rollout = Rollout.zeros(16, 4, 3, 2, torch.device("cpu"))
    rollout.obs.normal_()
    with torch.no_grad():
        rollout.actions, _, rollout.logp = (
            x.reshape(16, 4, *x.shape[1:]) for x in policy(rollout.obs.reshape(64, 3))
        )
    config = TrainConfig(ENV, Path("unused"), epochs=2, minibatches=4, kl_target=kl_target)
    ppo_update(policy, rollout, torch.randn(16, 4), config)
    return policy.optimizer.param_groups[0]["lr"]


def test_the_device_trainer_adapts_its_step_size_to_the_kl_target():
    assert _device_update(None) == 5e-3
    assert _device_update(1e-6) == pytest.approx(5e-3 / 1.5)
    assert _device_update(1e3) == pytest.approx(7.5e-3)


def test_a_resumed_run_goes_on_at_the_step_size_its_kl_target_left(tmp_path):
    def saved_rate():
        return read_training_state(tmp_path / "latest")["optimizer"]["param_groups"][0]["lr"]

    # One update per 512 env steps, each far above a KL of 1e-9: the step size shrinks 1.5 x.
    train(tiny_train_config(tmp_path, privileged=False, kl_target=1e-9, total_steps=512))
    assert saved_rate() == pytest.approx(TrainConfig(ENV, tmp_path).learning_rate / 1.5)
    first = saved_rate()
    train(run_config(ENV, tmp_path, resume=True, total_steps=1024), resume=True)
    assert saved_rate() == pytest.approx(first / 1.5)


def test_resume_without_a_checkpoint_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="no checkpoint"):
        train(tiny_train_config(tmp_path), resume=True)


def test_a_new_run_in_a_folder_that_holds_one_is_refused_and_the_old_run_kept(tmp_path):
    first = train(tiny_train_config(tmp_path, total_steps=512))
    weights = (tmp_path / "latest" / "weights.pt").read_bytes()
    with pytest.raises(ValueError, match="holds a run already"):
        train(tiny_train_config(tmp_path, total_steps=512))
    assert (tmp_path / "latest" / "weights.pt").read_bytes() == weights
    assert read_checkpoint(tmp_path / "latest")[0].env_steps == first.env_steps


def test_init_from_fine_tunes_another_run_and_counts_its_steps_on(tmp_path):
    first = train(tiny_train_config(tmp_path / "first"))
    tuned = train(
        tiny_train_config(
            tmp_path / "tuned",
            total_steps=first.env_steps + 1024,
            init_from=str(tmp_path / "first" / "latest"),
        )
    )
    assert first.env_steps + 1024 <= tuned.env_steps < first.env_steps + 2048
    assert tuned.wall_seconds > first.wall_seconds
    assert tuned.hyperparameters["init_from"] == str(tmp_path / "first" / "latest")
    weights = (tmp_path / "first" / "latest" / "weights.pt").read_bytes()
    assert tuned.started_from == {
        "env_steps": first.env_steps,
        "success_rate": first.evaluation["success_rate"],
        "weights_sha256": hashlib.sha256(weights).hexdigest(),
    }
    assert first.started_from == {}  # from scratch


def test_init_from_with_a_budget_its_checkpoint_already_spent_is_a_clear_error(tmp_path):
    first = train(tiny_train_config(tmp_path / "first"))
    config = tiny_train_config(
        tmp_path / "tuned",
        total_steps=first.env_steps,
        init_from=str(tmp_path / "first" / "latest"),
    )
    with pytest.raises(ValueError, match="leaves nothing to train"):
        train(config)
    assert not (tmp_path / "tuned" / "latest").exists()


def test_init_from_with_log_std_init_restarts_exploration_at_that_noise(tmp_path):
    train(tiny_train_config(tmp_path / "first"))
    latest = tmp_path / "first" / "latest"
    kept = train(tiny_train_config(tmp_path / "kept", total_steps=3072, init_from=str(latest)))
    quiet = train(
        tiny_train_config(
            tmp_path / "quiet", total_steps=3072, init_from=str(latest), log_std_init=-2.0
        )
    )
    first_std = read_checkpoint(latest)[1]["policy"]["log_std"]
    kept_std = read_checkpoint(tmp_path / "kept" / "latest")[1]["policy"]["log_std"]
    quiet_std = read_checkpoint(tmp_path / "quiet" / "latest")[1]["policy"]["log_std"]
    assert torch.allclose(kept_std, first_std, atol=0.05)
    assert torch.allclose(quiet_std, torch.full_like(quiet_std, -2.0), atol=0.05)
    assert kept.hyperparameters["log_std_init"] is None
    assert quiet.hyperparameters["log_std_init"] == -2.0
    # Given with --resume it sets the noise anew; a plain --resume keeps the run's own.
    train(
        run_config(ENV, tmp_path / "kept", resume=True, total_steps=4096, log_std_init=-3.0), True
    )
    train(run_config(ENV, tmp_path / "quiet", resume=True, total_steps=4096), resume=True)
    kept_std = read_checkpoint(tmp_path / "kept" / "latest")[1]["policy"]["log_std"]
    quiet_std = read_checkpoint(tmp_path / "quiet" / "latest")[1]["policy"]["log_std"]
    assert torch.allclose(kept_std, torch.full_like(kept_std, -3.0), atol=0.05)
    assert torch.allclose(quiet_std, torch.full_like(quiet_std, -2.0), atol=0.1)


def test_critic_warmup_moves_the_critic_and_leaves_the_policy_alone(tmp_path):
    train(tiny_train_config(tmp_path / "first"))
    latest = tmp_path / "first" / "latest"
    train(
        tiny_train_config(
            tmp_path / "warm", total_steps=3072, init_from=str(latest), critic_warmup=10_000
        )
    )
    before = read_checkpoint(latest)[1]["policy"]
    after = read_checkpoint(tmp_path / "warm" / "latest")[1]["policy"]
    actor = [k for k in before if k.startswith(("mlp_extractor.policy_net", "action_net"))]
    assert actor and all(torch.equal(before[k], after[k]) for k in [*actor, "log_std"])
    assert not torch.equal(before["value_net.weight"], after["value_net.weight"])
    # A fine-tune stopped during its warm-up goes on warming up when resumed.
    train(run_config(ENV, tmp_path / "warm", resume=True, total_steps=4096), resume=True)
    resumed = read_checkpoint(tmp_path / "warm" / "latest")[1]["policy"]
    assert all(torch.equal(before[k], resumed[k]) for k in [*actor, "log_std"])


def test_the_step_size_stays_while_the_critic_warms_up(tmp_path):
    # A frozen actor's KL is 0: read as "the step is too small", it would grow the step size
    # 1.5 x per update to the ceiling, and the first updates after the warm-up would wreck
    # the policy being tuned.
    train(tiny_train_config(tmp_path / "first"))
    config = tiny_train_config(
        tmp_path / "warm",
        total_steps=3072,
        init_from=str(tmp_path / "first" / "latest"),
        critic_warmup=10_000,
        kl_target=0.01,
        learning_rate=1e-4,
    )
    train(config)
    state = read_training_state(tmp_path / "warm" / "latest")
    assert state["optimizer"]["param_groups"][0]["lr"] == pytest.approx(1e-4)


def test_init_from_a_checkpoint_of_another_env_is_a_clear_error(tmp_path):
    saved_policy(tmp_path / "ckpt")
    config = tiny_train_config(
        tmp_path / "run", env_id="skillgym/Arm7-Push-v0", init_from=str(tmp_path / "ckpt")
    )
    with pytest.raises(ValueError, match="cannot start skillgym/Arm7-Push-v0"):
        train(config)


def test_init_from_a_checkpoint_of_a_smaller_observation_gives_the_new_entries_zero_weights(
    tmp_path,
):
    torch.manual_seed(0)
    meta = CheckpointMetadata(env_id=ENV, obs_size=26, action_size=8, env_steps=10**9)
    save_checkpoint(tmp_path / "ckpt", meta, build_policy(meta), np.zeros(26), np.ones(26))
    config = tiny_train_config(
        tmp_path / "run",
        total_steps=10**9 + 1024,
        init_from=str(tmp_path / "ckpt"),
        critic_warmup=10_000,  # the policy stays as loaded
    )
    tuned = train(config)
    before = read_checkpoint(tmp_path / "ckpt")[1]["policy"]["mlp_extractor.policy_net.0.weight"]
    after = read_checkpoint(tmp_path / "run" / "latest")[1]
    first_layer = after["policy"]["mlp_extractor.policy_net.0.weight"]
    assert tuned.obs_size == 29 and first_layer.shape == (256, 29)
    assert torch.equal(first_layer[:, :26], before)
    assert not first_layer[:, 26:].any()
    assert after["obs_var"].shape == (29,)


def test_resume_after_the_observation_changed_is_a_clear_error(tmp_path):
    train(tiny_train_config(tmp_path))
    metadata = tmp_path / "latest" / "metadata.json"
    recorded = json.loads(metadata.read_text())
    metadata.write_text(json.dumps({**recorded, "obs_size": 26}))
    with pytest.raises(ValueError, match="was trained on 26 observations"):
        train(run_config(ENV, tmp_path, resume=True, total_steps=2048), resume=True)


@pytest.mark.parametrize("option", [{"init_from": "ckpt"}, {"critic_warmup": 1000}])
def test_cpu_only_options_are_refused_by_the_device_trainer(tmp_path, option):
    from skillgym.training.ppo_mjx import train_mjx

    with pytest.raises(ValueError, match="CPU backend"):
        train_mjx(tiny_train_config(tmp_path, **option))
    assert not (tmp_path / "latest").exists()


def test_eval_command_writes_the_documented_record(tmp_path):
    saved_policy(tmp_path / "ckpt")
    out = tmp_path / "eval.json"
    code = main(
        ["eval", ENV, "--checkpoint", str(tmp_path / "ckpt"), "--episodes", "3", "--json", str(out)]
    )
    assert code == 0
    record = json.loads(out.read_text())
    assert record["env_id"] == ENV and record["episodes"] == 3
    assert 0.0 <= record["success_rate"] <= 1.0
    assert {"grip_error", "abs_torque", "abs_joint_vel", "energy", "tilt", "falls"} <= set(
        record["metrics"]
    )


def test_eval_command_without_a_checkpoint_fails_clearly(tmp_path, capsys):
    code = main(["eval", ENV, "--checkpoint", str(tmp_path / "nothing")])
    assert code == 1
    assert "no checkpoint" in capsys.readouterr().err


def test_bench_scores_a_trained_checkpoint_and_refuses_one_for_another_env(tmp_path):
    from skillgym.benchmarks import bench, load_suite

    saved_policy(tmp_path / "ckpt")
    suite = tmp_path / "suite.json"
    task = {"env_id": ENV, "robot": "arm7", "episodes": 2, "seed": 0, "episode_seconds": 0.3}
    suite.write_text(json.dumps({"schema_version": 1, "name": "one", "tasks": [task]}))
    results = bench(load_suite(suite), tmp_path / "out", policy=f"checkpoint:{tmp_path / 'ckpt'}")
    assert results["tasks"][0]["policy"].startswith(f"checkpoint ({ENV}")
    task["env_id"], task["robot"] = "skillgym/Tall19-Squat-v0", "tall19"
    suite.write_text(json.dumps({"schema_version": 1, "name": "one", "tasks": [task]}))
    with pytest.raises(ValueError, match=f"trained for {ENV}, not skillgym/Tall19-Squat-v0"):
        bench(load_suite(suite), tmp_path / "out2", policy=f"checkpoint:{tmp_path / 'ckpt'}")


def test_eval_refuses_a_checkpoint_of_another_env_or_of_other_sizes(tmp_path, capsys):
    saved_policy(tmp_path / "ckpt")
    other = ["eval", "skillgym/Arm7-Push-v0", "--checkpoint", str(tmp_path / "ckpt")]
    assert main([*other, "--episodes", "2"]) == 1
    assert f"trained for {ENV}, not skillgym/Arm7-Push-v0" in capsys.readouterr().err
    meta = CheckpointMetadata(env_id=ENV, obs_size=30, action_size=8)  # an env changed since
    save_checkpoint(tmp_path / "stale", meta, build_policy(meta), np.zeros(30), np.ones(30))
    assert main(["eval", ENV, "--checkpoint", str(tmp_path / "stale"), "--episodes", "2"]) == 1
    assert "maps 30 observations to 8 actions" in capsys.readouterr().err


@pytest.mark.parametrize(
    "name", sorted(p.name for p in PRETRAINED_DIR.iterdir() if (p / "metadata.json").exists())
)
def test_every_shipped_checkpoint_fits_its_env_and_acts(name):
    actor, meta = load_actor(PRETRAINED_DIR / name)
    assert pretrained_path(meta.env_id) == PRETRAINED_DIR / name
    env = gym.make(meta.env_id)
    obs, _ = env.reset(seed=0)
    assert obs.shape == (meta.obs_size,)
    action = actor.act(obs[None])[0]
    assert action.shape == env.action_space.shape and np.all(np.abs(action) <= 1.0)
    env.close()


def test_training_logs_each_reward_terms_part_of_the_return(tmp_path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    train(tiny_train_config(tmp_path, total_steps=2048))  # 256 steps per env: every episode ends
    (log,) = (tmp_path / "tensorboard").rglob("events.out.tfevents.*")
    scalars = EventAccumulator(str(log)).Reload().Tags()["scalars"]
    weights = gym.make(ENV).unwrapped.task.config.reward_weights
    assert {f"reward/{name}" for name in weights} <= set(scalars)


def test_a_published_checkpoint_records_what_skillgym_eval_scores(tmp_path):
    saved_policy(tmp_path / "run")
    published = publish_checkpoint(tmp_path / "run", tmp_path / "shipped", episodes=4)
    recorded = read_checkpoint(published)[0].evaluation
    actor, _ = load_actor(published)
    scored = evaluate(ENV, lambda _env: actor.act, 4, seed=0)
    assert {k: recorded[k] for k in scored} == scored
    assert recorded["seed"] == 0 and recorded["software"]["mujoco"] and len(recorded["date"]) == 10


def test_task_config_sets_the_training_env_is_recorded_and_checks_names_and_types(tmp_path):
    from skillgym.envs.registry import task_config
    from skillgym.training.ppo import make_training_env

    step = "skillgym/Tall19-Step-v0"
    assert task_config(step, {"target_radius": 0.3}).target_radius == 0.3
    assert task_config(step, {}) == gym.make(step).unwrapped.task.config
    with pytest.raises(ValueError, match="no number setting 'radius'"):
        task_config(step, {"radius": 0.3})
    with pytest.raises(ValueError, match="takes a float"):
        task_config(step, {"target_radius": True})
    weights = task_config(step, {"reward.torque": -0.5}).reward_weights
    assert weights["torque"] == -0.5
    assert {k: v for k, v in weights.items() if k != "torque"} == {
        k: v for k, v in task_config(step, {}).reward_weights.items() if k != "torque"
    }
    with pytest.raises(ValueError, match="no reward term 'speed'"):
        task_config(step, {"reward.speed": 1.0})
    config = tiny_train_config(tmp_path, task_config={"reset_joint_noise": 0.0})
    env, _ = make_training_env(config)
    assert env.get_attr("task")[0].config.reset_joint_noise == 0.0
    meta = train(config)
    assert meta.hyperparameters["task_config"] == {"reset_joint_noise": 0.0}
    assert run_config(ENV, tmp_path, resume=True).task_config == {"reset_joint_noise": 0.0}


def test_train_command_reads_task_settings_and_refuses_unknown_ones(tmp_path, capsys):
    code = main(["train", ENV, "--out", str(tmp_path / "run"), "--task-config", "radius=0.3"])
    assert code == 1
    assert "no number setting 'radius'" in capsys.readouterr().err
    assert not (tmp_path / "run").exists()
    with pytest.raises(SystemExit):
        main(["train", ENV, "--task-config", "radius"])
    assert "expected NAME=VALUE" in capsys.readouterr().err


def fine_tune_push(tmp_path, first, run: str = "first"):
    """A short fine-tune of Arm7 Push from run `run`'s latest checkpoint."""
    return train(
        tiny_train_config(
            tmp_path / "tuned",
            env_id="skillgym/Arm7-Push-v0",
            total_steps=first.env_steps + 512,
            init_from=str(tmp_path / run / "latest"),
        )
    )


def test_a_fine_tune_trains_with_privileges_only_if_its_checkpoint_did(tmp_path):
    push = "skillgym/Arm7-Push-v0"
    plain = train(tiny_train_config(tmp_path / "plain", env_id=push, privileged=False))
    tuned = fine_tune_push(tmp_path, plain, "plain")
    assert tuned.hyperparameters["privileged"] is False and not tuned.curriculum


def test_a_fine_tune_of_a_privileged_run_goes_on_at_its_curriculum_s_levels(tmp_path):
    first = train(tiny_train_config(tmp_path / "first", env_id="skillgym/Arm7-Push-v0"))
    meta_path = tmp_path / "first" / "latest" / "metadata.json"
    recorded = json.loads(meta_path.read_text())
    recorded["curriculum"]["privileges"]["level"] = 3  # as if promoted three times
    meta_path.write_text(json.dumps(recorded))
    tuned = fine_tune_push(tmp_path, first)
    assert tuned.hyperparameters["privileged"] is True
    assert tuned.curriculum["privileges"]["level"] >= 3
