"""The environments install and run with their own needs; commands name the extra they lack."""

import subprocess
import sys

# The packages of the `train`, `mjx` and `bench` extras, hidden from a fresh interpreter.
EXTRAS = ["torch", "stable_baselines3", "tensorboard", "matplotlib", "jax", "onnx", "onnxruntime"]
HIDE = f"import sys\nfor name in {EXTRAS!r}:\n    sys.modules[name] = None\n"


def run_python(code: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", HIDE + code], capture_output=True, text=True, timeout=300
    )


def test_environments_run_without_any_extra():
    code = """
import gymnasium as gym
import numpy as np
import skillgym

env = gym.make("skillgym/Tall19-Walk-v0")
obs, _ = env.reset(seed=0)
obs, *_ = env.step(env.action_space.sample())
envs = gym.make_vec("skillgym/Arm7-Push-v0", num_envs=2, vectorization_mode="vector_entry_point")
envs.reset(seed=0)
envs.step(np.zeros(envs.action_space.shape))
assert "torch" not in [m for m in sys.modules if sys.modules[m] is not None]
print("ok", obs.shape)
"""
    result = run_python(code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("ok")


def test_a_command_without_its_extra_names_the_extra():
    code = """
from skillgym.cli import main
sys.exit(main(["eval", "skillgym/Tall19-Walk-v0", "--episodes", "1"]))
"""
    result = run_python(code)
    assert result.returncode == 1
    assert "needs the 'train' extra" in result.stderr
    assert "pip install 'skillgym[train]'" in result.stderr
    assert "Traceback" not in result.stderr
