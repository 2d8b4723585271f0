"""Run an exported policy in plain MuJoCo, reading nothing but its export folder.

This file imports no skillgym code: copy it next to an export (``skillgym export`` puts a copy
there) and it runs with mujoco, numpy and onnxruntime alone. It is what a deployment loop does:

    every control step (control_dt):
        obs = [scale * (read(source) - offset) for each term of deploy["observation"]]
        action = clip(policy(obs), action_clip)                      # onnxruntime
        target = default_joint_pos + action_scale * action           # after `latency` steps
        every physics step (sim_dt):
            torque = clip(kp * (target - q) - kd * dq, -torque_limit, torque_limit)

The model's position actuators become torque motors, so the PD law above is the only one. The
success rule is measured from the raw state, as the export's `success` block states it; this
loop runs velocity-command policies (`"rule": "velocity_tracking"`).

    python sim2sim.py EXPORT_DIR [--episodes N] [--sim-dt S] [--latency STEPS] [--obs-noise]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import mujoco
import numpy as np

SCHEMA = "skillgym.deploy"
SCHEMA_VERSION = 1
REQUIRED = (
    "env_id",
    "robot",
    "control_dt",
    "sim_dt",
    "joint_names",
    "actuator_names",
    "default_joint_pos",
    "action_scale",
    "action_clip",
    "kp",
    "kd",
    "torque_limit",
    "observation",
    "goal",
    "sensors",
    "model",
    "policy",
)
PER_JOINT = ("default_joint_pos", "action_scale", "kp", "kd", "torque_limit")
# Uniform sensor noise per source with --obs-noise, in the source's units: the levels common
# humanoid pipelines train with.
OBS_NOISE = {
    "joint_pos": 0.01,
    "joint_vel": 1.5,
    "imu_gyro": 0.2,
    "projected_gravity": 0.05,
    "base_lin_vel": 0.1,
}


class ExportError(ValueError):
    """An export folder that cannot be run, with the file and field at fault."""


def load_deploy(folder: str | Path) -> dict[str, Any]:
    """deploy.json, checked: every field present, per-joint lists as long as `joint_names`."""
    path = Path(folder) / "deploy.json"
    if not path.is_file():
        raise ExportError(f"{folder}: no deploy.json; is it an export folder?")
    try:
        deploy = json.loads(path.read_text())
    except json.JSONDecodeError as error:
        raise ExportError(
            f"{path}: not valid JSON ({error.msg}, line {error.lineno}); truncated?"
        ) from None
    if not isinstance(deploy, dict) or deploy.get("schema") != SCHEMA:
        raise ExportError(f"{path}: not a {SCHEMA} file (its 'schema' field)")
    if deploy.get("schema_version") != SCHEMA_VERSION:
        raise ExportError(
            f"{path}: schema_version {deploy.get('schema_version')!r}, this loop reads "
            f"{SCHEMA_VERSION}"
        )
    missing = [name for name in REQUIRED if name not in deploy]
    if missing:
        raise ExportError(f"{path}: missing field(s) {', '.join(missing)}")
    joints = len(deploy["joint_names"])
    for name in (*PER_JOINT, "actuator_names"):
        if not isinstance(deploy[name], list) or len(deploy[name]) != joints:
            raise ExportError(f"{path}: '{name}' must list one value per joint ({joints})")
    for term in deploy["observation"]:
        unknown = {"name", "size", "source", "scale", "offset"} - set(term)
        if unknown:
            raise ExportError(f"{path}: observation term {term} lacks {', '.join(sorted(unknown))}")
    return deploy


class Sim:
    """The exported scene with torque motors, and the readings the observation's sources name."""

    def __init__(self, folder: str | Path, deploy: dict[str, Any], sim_dt: float) -> None:
        folder = Path(folder)
        scene = folder / deploy["model"]["scene"]
        if not scene.is_file():
            raise ExportError(f"{folder}: no {deploy['model']['scene']} (deploy.json 'model')")
        self.model = mujoco.MjModel.from_xml_path(str(scene))
        self.model.opt.timestep = sim_dt
        self.data = mujoco.MjData(self.model)
        self.deploy = deploy
        m = self.model
        if set(deploy.get("transmission", ["joint"])) != {"joint"}:
            raise ExportError(f"{folder}: this loop drives joints only, not tendons")
        self.actuators = [m.actuator(name).id for name in deploy["actuator_names"]]
        joints = [m.joint(name).id for name in deploy["joint_names"]]
        self.qpos_adr = m.jnt_qposadr[joints]
        self.dof_adr = m.jnt_dofadr[joints]
        limit = np.asarray(deploy["torque_limit"])
        for i, actuator in enumerate(self.actuators):  # position servo -> torque motor
            m.actuator_gaintype[actuator] = mujoco.mjtGain.mjGAIN_FIXED
            m.actuator_biastype[actuator] = mujoco.mjtBias.mjBIAS_NONE
            m.actuator_gainprm[actuator, :] = 0.0
            m.actuator_gainprm[actuator, 0] = 1.0
            m.actuator_biasprm[actuator, :] = 0.0
            m.actuator_ctrlrange[actuator] = (-limit[i], limit[i])
        sensors = deploy["sensors"]
        self.base_site = m.site(sensors["base_site"]).id
        self.sensor = {
            name: _sensor_slice(m, sensors[name]) for name in ("imu_gyro", "base_lin_vel")
        }
        self.touch = [_sensor_slice(m, name) for name in sensors["foot_contact"]]
        self.kp, self.kd = np.asarray(deploy["kp"]), np.asarray(deploy["kd"])
        self.limit = limit
        self.substeps = max(1, round(deploy["control_dt"] / sim_dt))

    def reset(self, keyframe: str = "home") -> None:
        mujoco.mj_resetDataKeyframe(self.model, self.data, self.model.keyframe(keyframe).id)
        mujoco.mj_forward(self.model, self.data)

    def read(self, source: str, goal: np.ndarray, last_action: np.ndarray) -> np.ndarray:
        """The raw reading of one observation source."""
        d = self.data
        if source == "goal":
            return goal
        if source == "last_action":
            return last_action
        if source == "joint_pos":
            return d.qpos[self.qpos_adr]
        if source == "joint_vel":
            return d.qvel[self.dof_adr]
        if source in self.sensor:
            return d.sensordata[self.sensor[source]]
        if source == "projected_gravity":
            return self.base_rotation().T @ np.array([0.0, 0.0, -1.0])
        if source == "foot_contact":
            return np.array([float(d.sensordata[s][0] > 0.0) for s in self.touch])
        raise ExportError(f"observation source {source!r} is not one this loop reads")

    def base_rotation(self) -> np.ndarray:
        return self.data.site_xmat[self.base_site].reshape(3, 3)

    def step(self, target: np.ndarray) -> None:
        """One control step: PD torques recomputed at every physics step."""
        d = self.data
        for _ in range(self.substeps):
            q, dq = d.qpos[self.qpos_adr], d.qvel[self.dof_adr]
            torque = np.clip(self.kp * (target - q) - self.kd * dq, -self.limit, self.limit)
            d.ctrl[self.actuators] = torque
            mujoco.mj_step(self.model, d)
        mujoco.mj_forward(self.model, d)  # sensors at the new state, as the policy trained


def _sensor_slice(model: mujoco.MjModel, name: str) -> slice:
    sensor = model.sensor(name)
    return slice(int(sensor.adr[0]), int(sensor.adr[0] + sensor.dim[0]))


def build_observation(
    sim: Sim,
    goal: np.ndarray,
    last_action: np.ndarray,
    noise: np.random.Generator | None = None,
) -> np.ndarray:
    """The policy's input from deploy.json's terms: `scale * (reading - offset)`, in order;
    with `noise`, each reading perturbed uniformly by its OBS_NOISE level."""
    parts = []
    for term in sim.deploy["observation"]:
        reading = np.asarray(sim.read(term["source"], goal, last_action), dtype=np.float64)
        if noise is not None and term["source"] in OBS_NOISE:
            level = OBS_NOISE[term["source"]]
            reading = reading + noise.uniform(-level, level, reading.shape)
        value = term["scale"] * (reading - np.asarray(term["offset"]))
        if value.shape != (term["size"],):
            raise ExportError(
                f"term {term['name']}: {value.shape[0]} values, deploy.json says {term['size']}"
            )
        parts.append(value)
    return np.concatenate(parts).astype(np.float32)


def sample_command(goal: dict[str, Any], min_speed: float, rng: np.random.Generator) -> np.ndarray:
    """A command uniform in the trained range whose planar speed is at least `min_speed`."""
    low, high = np.asarray(goal["low"]), np.asarray(goal["high"])
    while True:
        command = rng.uniform(low, high)
        if np.hypot(command[0], command[1]) >= min_speed:
            return command


def run(
    folder: str | Path,
    episodes: int = 20,
    sim_dt: float | None = None,
    latency: int = 0,
    obs_noise: bool = False,
    seed: int = 0,
) -> dict[str, Any]:
    """Score the exported policy over `episodes` episodes; the record `skillgym eval` writes."""
    import onnxruntime

    deploy = load_deploy(folder)
    rule = deploy.get("success") or {}
    if rule.get("rule") != "velocity_tracking":
        raise ExportError(
            f"{folder}: {deploy['env_id']} has no success rule this loop measures (it runs "
            "velocity-command policies)"
        )
    policy_file = Path(folder) / deploy["policy"]["file"]
    if not policy_file.is_file():
        raise ExportError(f"{folder}: no {deploy['policy']['file']} (deploy.json 'policy')")
    session = onnxruntime.InferenceSession(str(policy_file), providers=["CPUExecutionProvider"])
    sim = Sim(folder, deploy, sim_dt or deploy["sim_dt"])
    rng = np.random.default_rng(seed)
    control_dt = deploy["control_dt"]
    steps = round(rule["episode_seconds"] / control_dt)
    default = np.asarray(deploy["default_joint_pos"])
    scale = np.asarray(deploy["action_scale"])
    low, high = deploy["action_clip"]
    results = []
    for _ in range(episodes):
        sim.reset()
        command = sample_command(deploy["goal"], rule["min_command_speed"], rng)
        last_action = np.zeros(len(default))
        pending = [np.zeros(len(default))] * latency  # actions decided, not yet applied
        velocity_error, yaw_rate_error, heading_error, fell = 0.0, 0.0, 0.0, False
        for _ in range(steps):
            obs = build_observation(sim, command, last_action, rng if obs_noise else None)
            action = session.run(None, {deploy["policy"]["input"]: obs[None]})[0][0]
            action = np.clip(action, low, high)
            pending.append(action)
            applied = pending.pop(0)
            sim.step(default + scale * applied)
            last_action = applied
            velocity = sim.read("base_lin_vel", command, last_action)
            yaw_rate = sim.read("imu_gyro", command, last_action)[2]
            velocity_error += np.hypot(*(velocity[:2] - command[:2]))
            yaw_rate_error += abs(yaw_rate - command[2])
            heading_error += control_dt * (yaw_rate - command[2])
            up = sim.base_rotation()[2, 2]
            height = sim.data.site_xpos[sim.base_site, 2]
            if height < rule["fall_height"] or up < np.cos(rule["max_tilt"]):
                fell = True
                break
        mean_velocity_error = velocity_error / steps
        mean_yaw_rate_error = abs(heading_error) / (steps * control_dt)
        success = (
            not fell
            and mean_velocity_error <= rule["max_mean_velocity_error"]
            and mean_yaw_rate_error <= rule["max_mean_yaw_rate_error"]
        )
        results.append((success, mean_velocity_error, yaw_rate_error / steps, fell))
    success, velocity, yaw, falls = (np.mean([r[i] for r in results]) for i in range(4))
    return {
        "env_id": deploy["env_id"],
        "episodes": episodes,
        "success_rate": float(success),
        "metrics": {
            "velocity_error": float(velocity),
            "yaw_rate_error": float(yaw),
            "falls": float(falls),
        },
        "settings": {
            "sim_dt": sim_dt or deploy["sim_dt"],
            "latency_steps": latency,
            "obs_noise": obs_noise,
            "seed": seed,
        },
    }


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The loop's command-line arguments (this script's, and `skillgym sim2sim`'s)."""
    parser.add_argument("folder")
    parser.add_argument("--episodes", type=int, default=20)
    parser.add_argument("--sim-dt", type=float, help="physics step (default: deploy.json's)")
    parser.add_argument("--latency", type=int, default=0, help="control steps of action delay")
    parser.add_argument("--obs-noise", action="store_true", help="uniform sensor noise")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", help="also write the record here")


def run_command(args: argparse.Namespace) -> int:
    """Run the loop as the arguments say; print (and write) its record; 1 on a broken export."""
    try:
        record = run(
            args.folder, args.episodes, args.sim_dt, args.latency, args.obs_noise, args.seed
        )
    except ExportError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    text = json.dumps(record, indent=2)
    print(text)
    if args.json:
        Path(args.json).write_text(text + "\n")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_arguments(parser)
    return run_command(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
