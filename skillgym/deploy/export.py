"""Export a trained policy for another simulator or a robot: `skillgym export`.

The folder holds `policy.onnx` (deterministic actor, normalization inside, the robot's actions
only), `robot.xml` and `scene.xml` (self-contained MJCF as the policy trained on them),
`deploy.json` (everything a control loop needs, readable by any language; docs/deployment.md
describes each field), a `README.md` generated for the policy, and `sim2sim.py`, the standalone
loop that runs it.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path
from typing import Any

import gymnasium as gym
import mujoco
import numpy as np

from skillgym.assets import robot_spec
from skillgym.deploy import sim2sim
from skillgym.envs.registry import task_config
from skillgym.policies.checkpoint import CheckpointMetadata, load_actor, pretrained_path
from skillgym.policies.onnx import export_onnx
from skillgym.skills.walk import Walk

POLICY_FILE = "policy.onnx"
GOAL_SAMPLES = 4096  # resets drawn to measure the goal's trained range
# What each actuator drives, as deploy.json names it.
TRANSMISSIONS = {int(mujoco.mjtTrn.mjTRN_JOINT): "joint", int(mujoco.mjtTrn.mjTRN_TENDON): "tendon"}


def checkpoint_folder(source: str) -> Path:
    """A checkpoint folder, or an env id's shipped checkpoint."""
    path = Path(source)
    if path.is_dir():
        return path
    if source.startswith("skillgym/"):
        shipped = pretrained_path(source)
        if shipped.is_dir():
            return shipped
        raise FileNotFoundError(f"{source} has no shipped checkpoint ({shipped})")
    raise FileNotFoundError(f"{source}: neither a checkpoint folder nor an env id")


def export_policy(source: str, out: str | Path) -> Path:
    """Write the export folder of a checkpoint (or of an env id's shipped one) into `out`."""
    folder = checkpoint_folder(source)
    actor, meta = load_actor(folder)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    env = gym.make_vec(meta.env_id, num_envs=1, vectorization_mode="vector_entry_point")
    try:
        env.reset(seed=0)
        deploy = deploy_record(meta, env)
        (out / "robot.xml").write_text(robot_spec(env.task.robot.name).to_xml())
        (out / "scene.xml").write_text(env.task.build_spec().to_xml())
    finally:
        env.close()
    metadata = {key: json.dumps(deploy[key]) for key in deploy if key != "policy"}
    export_onnx(actor, meta.obs_size, out / POLICY_FILE, "obs", "actions", metadata)
    digest = hashlib.sha256((out / POLICY_FILE).read_bytes()).hexdigest()
    deploy["policy"]["sha256"] = digest
    (out / "deploy.json").write_text(json.dumps(deploy, indent=2) + "\n")
    (out / "README.md").write_text(readme(deploy))
    shutil.copyfile(sim2sim.__file__, out / "sim2sim.py")
    return out


def deploy_record(meta: CheckpointMetadata, env: Any) -> dict[str, Any]:
    """deploy.json's content for a checkpoint and its (reset) env."""
    task, model = env.task, env.model
    actuators = [model.actuator(i).name for i in range(model.nu)]
    transmission = [TRANSMISSIONS[int(model.actuator_trntype[i])] for i in range(model.nu)]
    name_of = {"joint": model.joint, "tendon": model.tendon}
    targets = [
        name_of[kind](model.actuator_trnid[i, 0]).name for i, kind in enumerate(transmission)
    ]
    terms = task.observation_terms(env.snapshot(), env.episode_state)
    sources = task.observation_sources()
    observation = [
        {
            "name": name,
            "size": int(value.shape[-1]),
            "source": sources[name][0],
            "scale": sources[name][1],
            "offset": sources[name][2],
        }
        for name, value in terms.items()
    ]
    robot = task.robot
    sensors = {}
    if hasattr(robot, "gyro_sensor"):
        sensors = {
            "base_site": robot.pelvis_site,
            "imu_gyro": robot.gyro_sensor,
            "base_lin_vel": robot.velocimeter_sensor,
            "foot_contact": list(robot.foot_touch_sensors),
        }
    return {
        "schema": sim2sim.SCHEMA,
        "schema_version": sim2sim.SCHEMA_VERSION,
        "env_id": meta.env_id,
        "robot": robot.name,
        "control_dt": float(task.dt),
        "sim_dt": float(model.opt.timestep),
        "joint_names": targets,
        "actuator_names": actuators,
        "transmission": transmission,
        "default_joint_pos": task.default_ctrl.tolist(),
        "action_scale": task.action_scale.tolist(),
        "action_clip": [-1.0, 1.0],
        "kp": model.actuator_gainprm[:, 0].tolist(),
        "kd": (-model.actuator_biasprm[:, 2]).tolist(),
        "torque_limit": np.abs(model.actuator_forcerange).max(axis=1).tolist(),
        "observation": observation,
        "goal": goal_layout(meta, task),
        "sensors": sensors,
        "model": {"robot": "robot.xml", "scene": "scene.xml"},
        "success": success_rule(meta, task),
        "policy": {
            "file": POLICY_FILE,
            "input": "obs",
            "output": "actions",
            "obs_size": meta.obs_size,
            "action_size": meta.action_size,
        },
    }


def goal_layout(meta: CheckpointMetadata, task: Any) -> dict[str, Any]:
    """The goal's entries, units and the range the policy trained on: measured over resets of
    the task as its training run configured it."""
    trained = type(task)(task.robot, task_config(meta.env_id, training_settings(meta)))
    trained.bind(mujoco.MjModel.from_xml_string(task.build_spec().to_xml()))
    u = np.random.default_rng(0).random((GOAL_SAMPLES, trained.reset_uniforms))
    goals = np.asarray(trained.sample_reset(u).goal)
    layout = task.goal_layout or tuple((f"goal[{i}]", "") for i in range(goals.shape[-1]))
    return {
        "names": [name for name, _ in layout],
        "units": [unit for _, unit in layout],
        "low": goals.min(axis=0).tolist(),
        "high": goals.max(axis=0).tolist(),
    }


def training_settings(meta: CheckpointMetadata) -> dict[str, Any]:
    return dict(meta.hyperparameters.get("task_config") or {})


def success_rule(meta: CheckpointMetadata, task: Any) -> dict[str, Any] | None:
    """The success rule as data, for the rules a loop outside skillgym measures (Walk's)."""
    if not isinstance(task, Walk):
        return None
    config = task.config
    return {
        "rule": "velocity_tracking",
        "text": task.success_rule,
        "episode_seconds": config.episode_seconds,
        "min_command_speed": config.min_command_speed,
        "max_mean_velocity_error": config.max_mean_velocity_error,
        "max_mean_yaw_rate_error": config.max_mean_yaw_rate_error,
        "fall_height": task.robot.fall_height,
        "max_tilt": config.max_tilt,
    }


def readme(deploy: dict[str, Any]) -> str:
    """The export's README: what it is, its observation and joints, the loop."""
    lines = [
        f"# {deploy['env_id']} on {deploy['robot']}",
        "",
        f"`{deploy['policy']['file']}` maps `{deploy['policy']['input']}` "
        f"[batch, {deploy['policy']['obs_size']}] (float32) to `{deploy['policy']['output']}` "
        f"[batch, {deploy['policy']['action_size']}], at {1 / deploy['control_dt']:.0f} Hz. "
        "Observation normalization is inside the graph.",
        "",
        "## Observation (in this order)",
        "",
        "| term | size | source | scale | offset |",
        "|---|---|---|---|---|",
    ]
    for term in deploy["observation"]:
        offset = term["offset"] if np.isscalar(term["offset"]) else "per joint, below"
        lines.append(
            f"| {term['name']} | {term['size']} | {term['source']} | {term['scale']:g} | {offset} |"
        )
    goal = deploy["goal"]
    lines += [
        "",
        "## Goal",
        "",
        "| entry | unit | trained low | trained high |",
        "|---|---|---|---|",
    ]
    for name, unit, low, high in zip(
        goal["names"], goal["units"], goal["low"], goal["high"], strict=True
    ):
        lines.append(f"| {name} | {unit} | {low:.3f} | {high:.3f} |")
    lines += [
        "",
        "## Joints (in action order)",
        "",
        "| joint | default (rad) | action scale | kp | kd | torque limit |",
        "|---|---|---|---|---|---|",
    ]
    for i, joint in enumerate(deploy["joint_names"]):
        lines.append(
            f"| {joint} | {deploy['default_joint_pos'][i]:.3f} | {deploy['action_scale'][i]:g} | "
            f"{deploy['kp'][i]:g} | {deploy['kd'][i]:g} | {deploy['torque_limit'][i]:g} |"
        )
    lines += [
        "",
        "## Control loop",
        "",
        "```",
        "every control_dt:",
        "    obs = concat(scale * (read(source) - offset) for each observation term)",
        "    action = clip(policy(obs), action_clip)",
        "    target = default_joint_pos + action_scale * action",
        "    every sim_dt (on a robot: the motor driver's rate):",
        "        torque = kp * (target - q) - kd * dq",
        "        apply clip(torque, -torque_limit, torque_limit)",
        "    last_action = action",
        "```",
        "",
        "`python sim2sim.py .` runs this loop in MuJoCo from this folder alone.",
        "",
    ]
    return "\n".join(lines)
