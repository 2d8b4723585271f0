"""Evaluation scores each env's first episode, whenever it ends and in any autoreset mode."""

import numpy as np
import pytest
from gymnasium.vector import AutoresetMode

from skillgym.evaluation import evaluate


@pytest.mark.parametrize("mode", list(AutoresetMode))
def test_every_first_episode_is_scored_when_episodes_end_at_different_steps(mode):
    rng = np.random.default_rng(0)

    def random_policy(env):  # random actions topple a humanoid, each at its own moment
        return lambda obs: rng.uniform(-1, 1, env.action_space.shape)

    result = evaluate("skillgym/Tall19-Squat-v0", random_policy, 16, 0, autoreset_mode=mode)
    assert result["episodes"] == 16
    assert result["metrics"]["falls"] == 1.0 and result["success_rate"] == 0.0
    # A fall ends an episode early: the mean return is that of whole short episodes.
    assert result["metrics"]["episode_return"] < 0.0
