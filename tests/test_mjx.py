"""The MJX backend runs the very same task functions as the CPU backend (JAX on the CPU here)."""

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from conftest import make_vec

import skillgym
from skillgym.envs.mjx import MjxCore, device_jit, enable_compilation_cache


def make_mjx(env_id: str, num_envs: int, **kwargs):
    return make_vec(env_id, num_envs, backend="mjx", **kwargs)


def start_from_cpu_state(cpu, mjx_env):
    """Put the MJX envs into the CPU envs' current state, goals included."""
    snap, state = cpu.snapshot(), cpu.episode_state
    keys = jax.random.split(jax.random.PRNGKey(0), cpu.num_envs)
    reset_to = device_jit(jax.vmap(mjx_env.core.reset_to))
    mjx_env._state = reset_to(snap.qpos.copy(), snap.qvel.copy(), np.asarray(state.goal), keys)


# Every scene and every task's functions, once: what MJX supports depends on the scene's
# geometry and the task code, not on which humanoid stands in it (the bodies share geom types).
TRACED = tuple(
    env_id
    for env_id, (robot, name) in skillgym.registered().items()
    if robot in ("tall19", "arm7") or name == "Walk"
)


def test_traced_envs_cover_every_skill_and_task_and_every_robot():
    names = {name for _, name in skillgym.registered().values()}
    robots = {robot for robot, _ in skillgym.registered().values()}
    traced = [skillgym.registered()[env_id] for env_id in TRACED]
    assert {name for _, name in traced} == names and {robot for robot, _ in traced} == robots


@pytest.mark.parametrize("env_id", TRACED)
def test_every_env_traces_on_mjx_with_the_cpu_task_functions(env_id):
    robot, skill = skillgym.registered()[env_id]
    core = MjxCore(skillgym.make_task(robot, skill))
    # One env's step: the task functions see the same shapes as under the env's vmap, and
    # tracing skips the batching (about half the time).
    state = jax.eval_shape(core.reset, jax.random.PRNGKey(0))
    action = jax.ShapeDtypeStruct((core.model.nu,), jnp.float32)
    stepped = jax.eval_shape(core.step, state, action)
    cpu = make_vec(env_id, 2)
    assert stepped.obs.shape == cpu.single_observation_space.shape
    assert stepped.episode.goal.shape == (core.task.goal_size,)


def test_arm_reach_matches_the_cpu_backend_step_for_step(rng):
    cpu, mjx_env = make_vec("skillgym/Arm7-Reach-v0", 4), make_mjx("skillgym/Arm7-Reach-v0", 4)
    cpu.reset(seed=0)
    start_from_cpu_state(cpu, mjx_env)
    for _ in range(10):
        action = np.clip(rng.normal(0, 0.3, (4, 8)), -1, 1)
        obs_c, rew_c, *_ = cpu.step(action)
        obs_m, rew_m, *_ = mjx_env.step(action)
        np.testing.assert_allclose(obs_m, obs_c, atol=1e-4)
        np.testing.assert_allclose(rew_m, rew_c, atol=1e-5)


def test_episodes_reset_inside_the_jitted_step():
    env = make_mjx("skillgym/Arm7-Reach-v0", 4, autoreset_mode="same_step")
    env.reset(seed=0)
    for _ in range(env.task.episode_steps):
        _, _, terminated, truncated, info = env.step(np.zeros((4, 8)))
    assert truncated.all() and not terminated.any()
    assert (info["final_info"]["episode_summary"]["l"] == env.task.episode_steps).all()
    assert (env.episode_state.steps == 0).all()


def test_envs_of_the_same_kind_share_one_trace_and_keep_their_own_states():
    first, second = make_mjx("skillgym/Arm7-Reach-v0", 4), make_mjx("skillgym/Arm7-Reach-v0", 4)
    assert first._step is second._step  # the second env does not trace MJX again
    assert make_mjx("skillgym/Arm7-Reach-v0", 2)._step is not first._step
    first.reset(seed=0)
    second.reset(seed=1)
    assert not np.allclose(first.episode_state.goal, second.episode_state.goal)


def test_torch_receives_device_arrays_without_a_copy():
    import torch

    env = make_mjx("skillgym/Arm7-Reach-v0", 4, array_type="torch")
    obs, _ = env.reset(seed=0)
    assert isinstance(obs, torch.Tensor) and obs.shape == (4, env.single_observation_space.shape[0])
    assert obs.data_ptr() == env.state.obs.unsafe_buffer_pointer()


def test_warp_without_a_cuda_device_fails_with_a_clear_message():
    with pytest.raises(RuntimeError, match="needs a CUDA GPU"):
        make_mjx("skillgym/Arm7-Reach-v0", 2, impl="warp")


def test_unknown_backend_is_rejected():
    with pytest.raises(ValueError, match="backend must be"):
        make_vec("skillgym/Arm7-Reach-v0", 2, backend="tpu")


def test_bad_actions_are_rejected_before_reaching_the_device():
    env = make_mjx("skillgym/Arm7-Reach-v0", 4)
    env.reset(seed=0)
    with pytest.raises(ValueError, match=r"Arm7-Reach.*\(4, 8\)"):
        env.step(np.full((4, 8), np.nan))


@pytest.mark.parametrize("array_type", ["jax", "torch"])
def test_a_nan_action_on_the_device_raises_as_on_the_cpu_backend(array_type):
    import torch

    env = make_mjx("skillgym/Arm7-Reach-v0", 4, array_type=array_type)
    env.reset(seed=0)

    def on_device(action):  # the array type the env hands out, on the device
        return torch.from_dlpack(action) if array_type == "torch" else action

    with pytest.raises(ValueError, match=r"Arm7-Reach-v0: action contains NaN or inf.*\(4, 8\)"):
        env.step(on_device(jnp.zeros((4, 8)).at[1, 3].set(jnp.nan)))
    with pytest.raises(ValueError, match=r"Arm7-Reach-v0: action has shape \(4, 7\)"):
        env.step(on_device(jnp.zeros((4, 7))))
    obs, *_ = env.step(on_device(jnp.full((4, 8), 3.0)))  # clipped to the box, as on the CPU
    assert obs.shape == (4, env.single_observation_space.shape[0])


def test_the_same_action_check_runs_on_the_host_and_on_the_device():
    from skillgym.envs.actions import check_action

    action = np.array([[0.5, -2.0], [np.inf, 0.0]])
    for xp in (np, jnp):
        with pytest.raises(ValueError, match=r"env: action contains NaN or inf .*\(2, 2\)"):
            check_action(xp.asarray(action), (2, 2), "env", xp, np.float32)
        clipped = check_action(xp.asarray(action[:1]), (1, 2), "env", xp, np.float32)
        assert isinstance(clipped, xp.ndarray) and clipped.dtype == np.float32
        np.testing.assert_array_equal(np.asarray(clipped), [[0.5, -1.0]])


def test_compilation_cache_location_is_configurable(tmp_path):
    path = enable_compilation_cache(tmp_path / "cache")
    try:
        assert path.is_dir()
        assert jax.config.jax_compilation_cache_dir == str(path)
    finally:
        enable_compilation_cache()


def test_device_trainer_writes_a_checkpoint_whose_policy_runs_on_the_cpu_backend(tmp_path):
    from skillgym.evaluation import evaluate
    from skillgym.policies.checkpoint import load_actor, read_training_state
    from skillgym.training.ppo import TrainConfig
    from skillgym.training.ppo_mjx import train_mjx

    config = TrainConfig(
        env_id="skillgym/Arm7-Reach-v0",
        out=tmp_path,
        total_steps=32,  # one update, then the final evaluation
        num_envs=4,
        rollout_steps=8,
        eval_episodes=4,
        epochs=1,
        privileged=False,
    )
    meta = train_mjx(config)
    assert meta.trainer == "torch-ppo-mjx-jax" and meta.env_steps == 32
    assert meta.evaluation["episodes"] == 4 and (tmp_path / "latest" / "training.pt").exists()
    actor, _ = load_actor(tmp_path / "latest")
    result = evaluate("skillgym/Arm7-Reach-v0", lambda _env: actor.act, episodes=2)
    assert result["episodes"] == 2 and np.isfinite(result["metrics"]["grip_error"])

    # Resumed with a new learning rate, the run trains and records at that rate.
    resumed = train_mjx(dataclasses.replace(config, total_steps=64, learning_rate=1e-4), True)
    assert resumed.env_steps == 64 and resumed.hyperparameters["learning_rate"] == 1e-4
    optimizer = read_training_state(tmp_path / "latest")["optimizer"]
    assert [group["lr"] for group in optimizer["param_groups"]] == [1e-4]


def test_initial_states_are_drawn_alike_on_both_backends_over_256_episodes():
    """The backends draw episodes with different generators (NumPy's and JAX's), so their
    initial states agree in distribution, not value for value: over 256 episodes the mean of
    every observation entry and goal coordinate agrees within 4 standard errors."""
    env_id, episodes = "skillgym/Arm7-Push-v0", 256
    cpu, mjx_env = make_vec(env_id, episodes), make_mjx(env_id, episodes)
    obs_cpu, _ = cpu.reset(seed=0)
    obs_mjx, _ = mjx_env.reset(seed=0)
    for on_cpu, on_mjx in (
        (obs_cpu, obs_mjx),
        (cpu.episode_state.goal, mjx_env.episode_state.goal),
    ):
        sem = np.hypot(on_cpu.std(axis=0), on_mjx.std(axis=0)) / np.sqrt(episodes)
        assert on_cpu.std(axis=0).max() > 0  # the episodes do differ
        np.testing.assert_array_less(
            np.abs(on_cpu.mean(axis=0) - on_mjx.mean(axis=0)), 4 * sem + 1e-4
        )


def test_scripted_reach_scores_alike_on_both_backends_over_128_episodes():
    """Statistical parity of whole episodes: success rates within 0.05, mean returns within
    4 standard errors of their difference. Episodes last 1.5 s, time enough to reach and hold."""
    from skillgym.evaluation import run_episodes
    from skillgym.policies.scripted import ArmReachIK
    from skillgym.skills.arm_reach import ArmReach

    env_id, episodes = "skillgym/Arm7-Reach-v0", 128
    config = dataclasses.replace(ArmReach.default_config(), episode_seconds=1.5)
    results = []
    for env in (
        make_vec(env_id, episodes, config=config),
        make_mjx(env_id, episodes, config=config),
    ):
        results.append(run_episodes(env, ArmReachIK(env), seed=0))
    on_cpu, on_mjx = results
    assert on_cpu["success"].mean() > 0.8  # the comparison is not between two failures
    assert abs(on_mjx["success"].mean() - on_cpu["success"].mean()) <= 0.05
    sem = np.hypot(on_cpu["r"].std(), on_mjx["r"].std()) / np.sqrt(episodes)
    assert abs(on_mjx["r"].mean() - on_cpu["r"].mean()) <= 4 * sem + 1e-3
