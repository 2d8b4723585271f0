"""Composed controllers: frozen skills blended per joint from the task's own observation, trained
and saved like any policy, tied to the exact skills they were trained with."""

import json

import gymnasium as gym
import numpy as np
import pytest
import torch
from conftest import make_vec, tiny_train_config

from skillgym.evaluation import evaluate
from skillgym.policies.checkpoint import describe, load_actor, pretrained_path
from skillgym.policies.composed import Composer, make_composer
from skillgym.policies.library import check_same_skills, composed_skills
from skillgym.training.ppo import train
from skillgym.training.run_folder import EVAL_SEED

TASK = "skillgym/Tall19-ButtonPress-v0"
SKILLS = ("Walk", "Reach", "Squat", "Step")


@pytest.fixture(scope="module")
def composed():
    env = make_vec(TASK, num_envs=3)
    obs, _ = env.reset(seed=0)
    obs, *_ = env.step(np.random.default_rng(0).uniform(-0.2, 0.2, (3, 19)))
    records, skills = composed_skills(env)
    return env, torch.as_tensor(obs), records, skills


def composer(composed, mode="blend", residual=True) -> Composer:
    _, _, records, skills = composed
    return make_composer({"mode": mode, "residual": residual, "skills": records}, skills, 19)


def test_the_robot_s_shipped_skills_are_recorded_by_content(composed):
    _, _, records, _ = composed
    assert [r["name"] for r in records] == list(SKILLS)
    for record in records:
        shipped = describe(pretrained_path(record["env_id"]))
        assert record["weights_sha256"] == shipped["weights_sha256"]
        assert record["env_steps"] == shipped["env_steps"]
        assert np.all(np.asarray(record["goal_low"]) < np.asarray(record["goal_high"]))


def test_each_skill_sees_its_own_observation_with_its_goal_in_the_goal_slot(composed):
    env, obs, records, skills = composed
    blend = composer(composed, residual=True)
    head = torch.zeros(3, blend.head_size)
    with torch.no_grad():
        goals = blend.goals(head, obs)  # a zero residual: the decomposition's goals, clamped
        actions = blend.skill_actions(goals, obs)
    task, snap, state = env.task, env.snapshot(), env.episode_state
    task_goals = task.composed_goals(snap, state)
    for k, (record, skill) in enumerate(zip(records, skills, strict=True)):
        low, high = np.asarray(record["goal_low"]), np.asarray(record["goal_high"])
        suggested = task.skills[record["name"]].goal_observation(
            snap, state._replace(goal=task_goals[record["name"]])
        )
        np.testing.assert_allclose(goals[k].numpy(), np.clip(suggested, low, high), atol=1e-5)
        own = task.skills[record["name"]].observe(
            snap, state._replace(goal=task_goals[record["name"]])
        )
        own[:, : low.size] = goals[k].numpy()
        np.testing.assert_allclose(actions[:, k].numpy(), skill.act(own), atol=1e-5)


@pytest.mark.parametrize("mode", ["blend", "mcp", "switch", "scripted"])
def test_the_action_is_the_skills_actions_weighted_per_joint_summing_to_one(composed, mode):
    _, obs, _, _ = composed
    blend = composer(composed, mode)
    head = torch.randn(3, blend.head_size, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        weights = blend.weights(head, obs)
        actions = blend.skill_actions(blend.goals(head, obs), obs)
        action = blend(head, obs)
    assert weights.shape[:2] == (3, 4) and weights.shape[2] in (1, 19)
    np.testing.assert_allclose(weights.sum(dim=1).numpy(), 1.0, atol=1e-6)
    if mode == "blend":
        assert weights.shape[2] == 19 and not torch.allclose(weights[..., 0], weights[..., 1])
    if mode in ("switch", "scripted"):
        assert set(np.unique(weights.numpy().round(6))) <= {0.0, 1.0}
    np.testing.assert_allclose(action.numpy(), (weights * actions).sum(1).numpy(), atol=1e-6)


def test_gradients_reach_goals_and_weights_through_the_frozen_skills(composed):
    _, obs, _, skills = composed
    blend = composer(composed, "blend", residual=False)
    head = torch.zeros(3, blend.head_size, requires_grad=True)
    blend(head, obs).square().sum().backward()
    goal_size = sum(blend.goal_sizes)
    assert head.grad[:, :goal_size].abs().sum() > 0  # through the skill networks
    assert head.grad[:, goal_size:].abs().sum() > 0
    assert all(p.grad is None for skill in skills for p in skill.parameters())


def test_a_task_that_does_not_compose_skills_gets_a_clear_error():
    env = make_vec("skillgym/Tall19-Walk-v0", num_envs=1)
    env.reset(seed=0)
    with pytest.raises(ValueError, match="does not compose skills"):
        composed_skills(env)


def test_a_composed_checkpoint_is_a_bench_policy_and_a_submission(tmp_path):
    from skillgym.benchmarks.policy_spec import PolicyContext, make_policy
    from skillgym.benchmarks.submission import export_submission

    train(tiny_train_config(tmp_path / "run", env_id=TASK, controller="switch", total_steps=512))
    env = make_vec(TASK, num_envs=2)
    obs, _ = env.reset(seed=0)
    loaded = make_policy(f"checkpoint:{tmp_path / 'run/latest'}", PolicyContext(env, 0))
    actor, _ = load_actor(tmp_path / "run/latest")
    np.testing.assert_array_equal(loaded.policy(obs), actor.act(obs))
    submission = export_submission(actor, tmp_path / "sub", name="switch", tasks=[TASK])
    assert submission.policy_path(TASK).is_file()


def test_a_composed_run_saves_a_checkpoint_that_evaluates_and_resumes(tmp_path):
    config = tiny_train_config(tmp_path / "run", env_id=TASK, controller="blend")
    meta = train(config)
    saved = json.loads((tmp_path / "run/latest/metadata.json").read_text())
    assert saved["controller"]["mode"] == "blend" and not saved["hyperparameters"]["privileged"]
    assert [s["name"] for s in saved["controller"]["skills"]] == list(SKILLS)
    actor, _ = load_actor(tmp_path / "run/latest")  # the skills' weights come with it
    again = evaluate(TASK, lambda _env: actor.act, episodes=4, seed=EVAL_SEED)
    assert again["metrics"] == pytest.approx(meta.evaluation["metrics"], rel=1e-5)
    resumed = train(
        tiny_train_config(tmp_path / "run", env_id=TASK, controller="blend", total_steps=2048),
        resume=True,
    )
    assert resumed.env_steps >= 2048


def test_continuing_a_controller_with_other_skill_versions_is_refused(composed):
    _, _, records, _ = composed
    retrained = [dict(r) for r in records]
    retrained[0]["weights_sha256"] = "0" * 64
    with pytest.raises(ValueError, match="trained on Walk = skillgym/Tall19-Walk-v0"):
        check_same_skills(records, retrained)
    check_same_skills(records, records)


def test_the_device_trainer_builds_a_composed_learner_with_the_shipped_skills(tmp_path):
    pytest.importorskip("jax")
    from skillgym.training.ppo_mjx import make_learner, run_metadata, shipped_skills

    config = tiny_train_config(tmp_path / "run", env_id=TASK, controller="mcp")
    env = make_vec(TASK, num_envs=1)  # stands in for the MJX env: the same spaces
    records, skills = shipped_skills(config)
    meta = run_metadata(config, env, "jax", records)
    learner = make_learner(config, meta, torch.device("cpu"), skills)
    assert meta.controller["mode"] == "mcp" and len(meta.controller["skills"]) == 4
    for mine, shipped in zip(learner.policy.composer.skills, skills, strict=True):
        for a, b in zip(mine.state_dict().values(), shipped.state_dict().values(), strict=True):
            assert torch.equal(a, b)
    obs = torch.randn(2, meta.obs_size)
    assert torch.equal(learner.normalize(obs), obs)  # the composed policy normalizes itself
    from skillgym.policies.library import skills_noise

    noise = learner.policy.log_std.detach()  # the skills' own, as on the CPU trainer
    assert torch.allclose(noise, torch.full_like(noise, skills_noise(skills)))


def test_the_switcher_spec_drives_the_shipped_skills_and_says_so_where_there_are_none():
    from skillgym.benchmarks.policy_spec import PolicyContext, make_policy

    env = make_vec(TASK, num_envs=2)
    loaded = make_policy("switcher", PolicyContext(env, 0))
    obs, _ = env.reset(seed=0)
    action = loaded.policy(obs)
    assert action.shape == (2, 19) and np.abs(action).max() > 0.0
    assert "decomposition" in loaded.description
    walk = make_vec("skillgym/Tall19-Walk-v0", num_envs=1)
    assert make_policy("switcher", PolicyContext(walk, 0)).description == (
        "zero (no skills to compose)"
    )


@pytest.mark.parametrize("mode", ["blend", "mcp", "switch"])
def test_a_new_controller_starts_with_most_weight_on_walk(composed, mode):
    from skillgym.policies.actor import policy_kwargs
    from skillgym.policies.composed import ComposedPolicy

    _, obs, records, _ = composed
    blend = composer(composed, mode)
    size = obs.shape[-1]
    policy = ComposedPolicy(
        gym.spaces.Box(-np.inf, np.inf, (size,), np.float32),
        gym.spaces.Box(-1.0, 1.0, (19,), np.float32),
        lambda _: 3e-4,
        composer=blend,
        obs_mean=np.zeros(size),
        obs_var=np.ones(size),
        **policy_kwargs([64], "elu"),
    )
    with torch.no_grad():
        latent = policy.mlp_extractor.forward_actor(policy.normalize(obs))
        weights = blend.weights(policy.action_net(latent), obs)
    assert (weights[:, 0] > 0.8).all() and records[0]["name"] == "Walk"


def test_a_controller_drives_the_skill_checkpoints_it_is_given_and_refuses_others(tmp_path):
    env = make_vec(TASK, num_envs=1)
    env.reset(seed=0)
    walk = pretrained_path("skillgym/Tall19-Walk-v0")
    records, _ = composed_skills(env, {"Walk": walk})
    assert records[0]["weights_sha256"] == describe(walk)["weights_sha256"]
    with pytest.raises(ValueError, match="is a checkpoint of skillgym/Tall19-Squat-v0"):
        composed_skills(env, {"Walk": pretrained_path("skillgym/Tall19-Squat-v0")})
    with pytest.raises(ValueError, match="no skill named Run"):
        composed_skills(env, {"Run": walk})


def test_pretrained_scores_a_task_without_a_shipped_checkpoint_as_holding_still():
    from skillgym.benchmarks.policy_spec import PolicyContext, make_policy

    env = make_vec("skillgym/Tall19-PackageCarry-v0", num_envs=1)
    assert not pretrained_path("skillgym/Tall19-PackageCarry-v0").exists()
    loaded = make_policy("pretrained", PolicyContext(env, 0))
    assert loaded.description == "zero (no shipped checkpoint)"


def test_an_arm_task_s_controller_drives_lift_and_reach_each_on_its_own_observation():
    env = make_vec("skillgym/Arm7-PushGraspLift-v0", num_envs=2)
    obs, _ = env.reset(seed=0)
    records, skills = composed_skills(env)
    assert [record["name"] for record in records] == ["Lift", "Reach"]
    blend = make_composer({"mode": "blend", "residual": True, "skills": records}, skills, 8)
    with torch.no_grad():
        goals = blend.goals(torch.zeros(2, blend.head_size), torch.as_tensor(obs))
        actions = blend.skill_actions(goals, torch.as_tensor(obs))
    task, snap, state = env.task, env.snapshot(), env.episode_state
    task_goals = task.composed_goals(snap, state)
    for k, (record, skill) in enumerate(zip(records, skills, strict=True)):
        own = task.skills[record["name"]].observe(
            snap, state._replace(goal=task_goals[record["name"]])
        )
        own[:, : goals[k].shape[-1]] = goals[k].numpy()
        np.testing.assert_allclose(actions[:, k].numpy(), skill.act(own), atol=1e-5)


def test_the_arm_switcher_lifts_then_hands_the_shoulder_and_elbow_to_reach():
    from skillgym.benchmarks.policy_spec import PolicyContext, make_policy

    env = make_vec("skillgym/Arm7-PushGraspLift-v0", num_envs=2)
    switcher = make_policy("switcher", PolicyContext(env, 0)).policy
    obs, _ = env.reset(seed=0)
    task, snap, state = env.task, env.snapshot(), env.episode_state
    weights = task.phase_weights(snap, state)
    np.testing.assert_array_equal(weights[:, 0], 1.0)  # the box lies: Lift has every actuator
    center = task.skills["Lift"].centers[1]
    site_xpos = snap.site_xpos.copy()
    site_xpos[0, center, 2] += 0.1  # the first box 10 cm up, as if held
    held = task.phase_weights(snap._replace(site_xpos=site_xpos), state)
    np.testing.assert_array_equal(held[0, 1], [1, 1, 1, 1, 0, 0, 0, 0])  # Reach carries
    np.testing.assert_array_equal(held[0, 0] + held[0, 1], 1.0)
    np.testing.assert_array_equal(held[1], weights[1])
    records, skills = composed_skills(env)
    lift = task.skills["Lift"].observe(snap, state._replace(goal=task.lift_goal(snap)))
    np.testing.assert_allclose(switcher(obs), np.clip(skills[0].act(lift), -1, 1), atol=1e-5)


def test_a_new_arm_controller_starts_on_the_task_s_phases_with_the_distilled_lift_s_small_noise():
    from skillgym.policies.library import DISTILLED_LOG_STD, skills_noise

    env = make_vec("skillgym/Arm7-PushGraspLift-v0", num_envs=2)
    obs, _ = env.reset(seed=0)
    records, skills = composed_skills(env)
    task, snap, state = env.task, env.snapshot(), env.episode_state
    phases = task.phase_weights(snap, state)
    for k, record in enumerate(records):
        start, size = record["phase"]
        np.testing.assert_array_equal(obs[:, start : start + size], phases[:, k])
    for mode in ("blend", "mcp", "switch"):
        controller = make_composer({"mode": mode, "residual": True, "skills": records}, skills, 8)
        assert controller.first_skill_logits() == slice(0, 0)
        weights = controller.weights(torch.zeros(2, controller.head_size), torch.as_tensor(obs))
        assert (weights[:, 0] > 0.99).all()  # the box lies on the table: Lift drives
        lift_goal = torch.as_tensor(task.composed_goals(snap, state)["Lift"], dtype=torch.float32)
        head = torch.ones(2, controller.head_size)  # whatever the head says, Lift's goal stays
        torch.testing.assert_close(controller.goals(head, torch.as_tensor(obs))[0], lift_goal)
        assert controller.head_size == 3 + {"blend": 16, "mcp": 2, "switch": 2}[mode]  # Reach's
    assert skills_noise(skills) == DISTILLED_LOG_STD  # Lift never trained its noise
