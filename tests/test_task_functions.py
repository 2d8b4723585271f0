"""Task functions are pure array functions: no mutation, any leading batch shape."""

import numpy as np
import pytest
from conftest import ENV_IDS, make_vec

from skillgym.core.snapshot import Snapshot
from skillgym.core.task import EpisodeState


def frozen_array(x):
    """A read-only copy, so that an in-place write raises."""
    x = np.array(x, copy=True)
    x.flags.writeable = False
    return x


def frozen(tree):
    return type(tree)(*(frozen_array(x) for x in tree))


def take(tree, i):
    return type(tree)(*(np.asarray(x)[i] for x in tree))


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_task_functions_never_mutate_and_work_with_or_without_a_batch_axis(env_id, rng):
    env = make_vec(env_id, num_envs=3)
    env.reset(seed=1)
    env.step(rng.uniform(-0.3, 0.3, env.action_space.shape))
    task = env.task
    snap = frozen(env.physics.snapshot())
    state = frozen(env.episode_state)
    action = frozen_array(rng.uniform(-1, 1, env.action_space.shape))
    batched = task.advance(snap, state, action)
    batched_obs = task.observe(snap, state)
    for i in range(3):
        single = task.advance(take(snap, i), take(state, i), action[i])
        np.testing.assert_allclose(single.reward, batched.reward[i], rtol=1e-12)
        np.testing.assert_array_equal(single.terminated, batched.terminated[i])
        np.testing.assert_allclose(task.observe(take(snap, i), take(state, i)), batched_obs[i])
    u = frozen_array(rng.random((3, task.reset_uniforms)))
    sample = task.sample_reset(u)
    assert sample.qpos.shape == (3, env.model.nq)
    assert sample.goal.shape == (3, task.goal_size)


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_reset_samples_are_a_function_of_the_uniforms_alone(env_id, rng):
    task = make_vec(env_id, num_envs=1).task
    u = rng.random((5, task.reset_uniforms))
    first, second = task.sample_reset(u), task.sample_reset(u.copy())
    for a, b in zip(first, second, strict=True):
        np.testing.assert_array_equal(a, b)
    other = task.sample_reset(rng.random((5, task.reset_uniforms)))
    # Other draws, another episode: the goal moves, or the robot's start does (fixed props).
    assert not (np.array_equal(first.goal, other.goal) and np.array_equal(first.qpos, other.qpos))


@pytest.mark.parametrize(
    "env_id",
    [
        "skillgym/Tall19-Walk-v0",
        "skillgym/Tall19-Squat-v0",
        "skillgym/Tall19-Step-v0",
        "skillgym/Arm7-Push-v0",
        "skillgym/Tall19-BoxPush-v0",
        "skillgym/Tall19-ButtonPress-v0",
    ],
)
def test_resets_and_success_rules_under_jax_jit_match_numpy(env_id, rng):
    jax = pytest.importorskip("jax")
    env = make_vec(env_id, num_envs=4)
    env.reset(seed=0)
    env.step(rng.uniform(-0.2, 0.2, env.action_space.shape))
    task, snap = env.task, env.snapshot()
    # The episode's last step, where Walk's rule decides.
    state = env.episode_state._replace(steps=np.full(4, task.episode_steps - 1, dtype=np.int32))
    u = rng.random((4, task.reset_uniforms))
    action = rng.uniform(-0.2, 0.2, (4, env.model.nu))

    def rules(u, snap, state, action):
        result = task.advance(snap, state, action)
        return task.sample_reset(u), task.reached(snap, state), result.success, result.state

    on_jax = jax.jit(rules)(*jax.tree.map(jax.numpy.asarray, (u, snap, state, action)))
    on_numpy = rules(u, snap, state, action)
    for jax_value, numpy_value in zip(
        jax.tree.leaves(on_jax), jax.tree.leaves(on_numpy), strict=True
    ):
        np.testing.assert_allclose(
            np.asarray(jax_value, dtype=float), np.asarray(numpy_value, dtype=float), atol=1e-4
        )


def test_frame_and_episode_state_are_named_tuples_a_jax_backend_can_carry():
    assert issubclass(Snapshot, tuple) and issubclass(EpisodeState, tuple)
