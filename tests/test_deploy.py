"""Exports: one ONNX graph equal to the torch actor, a deploy.json from which a plain MuJoCo loop
builds the env's own observation, and clear errors for a broken export folder."""

import json
import shutil

import mujoco
import numpy as np
import onnxruntime
import pytest
from conftest import make_vec, tiny_train_config

from skillgym.cli import main
from skillgym.deploy import sim2sim
from skillgym.deploy.export import export_policy
from skillgym.policies.checkpoint import load_actor, pretrained_path
from skillgym.training.ppo import train

WALK = "skillgym/Tall19-Walk-v0"


@pytest.fixture(scope="module")
def walk_export(tmp_path_factory):
    return export_policy(WALK, tmp_path_factory.mktemp("export") / "walk")


def onnx_actions(folder, obs):
    session = onnxruntime.InferenceSession(str(folder / "policy.onnx"))
    return session.run(None, {"obs": obs.astype(np.float32)})[0]


def probe_observations(env_id, n=64):
    env = make_vec(env_id, num_envs=n)
    obs, _ = env.reset(seed=0)
    obs, *_ = env.step(np.random.default_rng(0).uniform(-0.5, 0.5, env.action_space.shape))
    return obs


@pytest.mark.parametrize("env_id", [WALK, "skillgym/Arm7-Lift-v0"])
def test_the_onnx_graph_gives_the_torch_actor_s_actions(env_id, tmp_path):
    folder = export_policy(env_id, tmp_path / "out")
    actor, meta = load_actor(pretrained_path(env_id))
    obs = probe_observations(env_id)
    np.testing.assert_allclose(onnx_actions(folder, obs), actor.act(obs), atol=1e-5)
    deploy = json.loads((folder / "deploy.json").read_text())
    assert deploy["policy"]["obs_size"] == meta.obs_size
    assert sum(term["size"] for term in deploy["observation"]) == meta.obs_size


def test_a_composed_controller_exports_as_one_graph_with_its_skills(tmp_path):
    task = "skillgym/Tall19-ButtonPress-v0"
    train(tiny_train_config(tmp_path / "run", env_id=task, controller="blend", total_steps=512))
    folder = export_policy(str(tmp_path / "run/latest"), tmp_path / "out")
    actor, _ = load_actor(tmp_path / "run/latest")
    obs = probe_observations(task, n=8)
    np.testing.assert_allclose(onnx_actions(folder, obs), actor.act(obs), atol=1e-5)


def test_deploy_json_names_joints_and_gains_in_action_order(walk_export):
    deploy = json.loads((walk_export / "deploy.json").read_text())
    env = make_vec(WALK, num_envs=1)
    model = env.model
    assert deploy["actuator_names"] == [model.actuator(i).name for i in range(model.nu)]
    assert deploy["kp"][3] == model.actuator("left_knee").gainprm[0]
    assert deploy["kd"][3] == -model.actuator("left_knee").biasprm[2]
    assert deploy["goal"]["names"] == ["vx", "vy", "yaw_rate"]
    assert deploy["goal"]["low"] == pytest.approx([-0.5, -0.3, -0.5], abs=0.01)
    assert deploy["goal"]["high"] == pytest.approx([1.0, 0.3, 0.5], abs=0.01)
    readme = (walk_export / "README.md").read_text()
    assert "| left_knee | 0.600 | 1.2 | 800 | 16 | 300 |" in readme


def test_the_loop_builds_the_env_s_observation_from_deploy_json_alone(walk_export):
    env = make_vec(WALK, num_envs=1)
    env.reset(seed=3)
    rng = np.random.default_rng(1)
    for _ in range(20):
        obs, *_ = env.step(rng.uniform(-0.4, 0.4, (1, 19)))
    deploy = sim2sim.load_deploy(walk_export)
    sim = sim2sim.Sim(walk_export, deploy, deploy["sim_dt"])
    snap, state = env.snapshot(), env.episode_state
    sim.data.qpos[:] = snap.qpos[0]
    sim.data.qvel[:] = snap.qvel[0]
    mujoco.mj_forward(sim.model, sim.data)
    built = sim2sim.build_observation(sim, state.goal[0], state.last_action[0])
    np.testing.assert_allclose(built, obs[0], rtol=1e-5, atol=1e-5)


def test_the_loop_scores_an_export_and_writes_eval_s_record(walk_export, tmp_path):
    path = tmp_path / "sim2sim.json"
    assert main(["sim2sim", str(walk_export), "--episodes", "2", "--json", str(path)]) == 0
    record = json.loads(path.read_text())
    assert {"env_id", "episodes", "success_rate", "metrics"} <= set(record)
    assert record["env_id"] == WALK and record["episodes"] == 2


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda d: (d / "deploy.json").write_text('{"schema": "skillgym.de'), "truncated"),
        (lambda d: (d / "deploy.json").unlink(), "no deploy.json"),
        (lambda d: (d / "policy.onnx").unlink(), "no policy.onnx"),
        (lambda d: (d / "scene.xml").unlink(), "no scene.xml"),
        (lambda d: _edit(d, lambda j: j.pop("kp")), "missing field.*kp"),
        (lambda d: _edit(d, lambda j: j["kd"].pop()), "'kd' must list one value per joint"),
        (lambda d: _edit(d, lambda j: j["observation"][0].pop("scale")), "lacks scale"),
    ],
)
def test_a_broken_export_gets_an_error_naming_what_is_wrong(walk_export, tmp_path, damage, message):
    folder = tmp_path / "copy"
    shutil.copytree(walk_export, folder)
    damage(folder)
    with pytest.raises(sim2sim.ExportError, match=message):
        sim2sim.run(folder, episodes=1)


def _edit(folder, change):
    deploy = json.loads((folder / "deploy.json").read_text())
    change(deploy)
    (folder / "deploy.json").write_text(json.dumps(deploy))


def test_export_of_an_env_without_a_shipped_checkpoint_is_a_clear_error(tmp_path, capsys):
    assert main(["export", "skillgym/Tall21-Walk-v0", "--out", str(tmp_path)]) == 1
    assert "no shipped checkpoint" in capsys.readouterr().err


def test_every_shipped_checkpoint_exports(tmp_path):
    from skillgym.policies.checkpoint import PRETRAINED_DIR

    for folder in sorted(PRETRAINED_DIR.iterdir()):
        out = export_policy(str(folder), tmp_path / folder.name)
        deploy = sim2sim.load_deploy(out)
        assert deploy["env_id"] == load_actor(folder)[1].env_id
