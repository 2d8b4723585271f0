"""Curricula: success-gated levels that take privileges away, and resume from plain JSON."""

import json

import numpy as np
import pytest
from conftest import make_vec

from skillgym.core.privileges import ObjectForce, ObjectOnSide, Schedule, SquaredYaw, TableOffset
from skillgym.curricula import Curriculum, LevelTerm, make_curriculum


def episodes(success, **stats) -> dict:
    """A vector env's step info in which every env just finished an episode."""
    success = np.asarray(success, dtype=bool)
    episode = {"success": success, **{k: np.asarray(v) for k, v in stats.items()}}
    ended = np.ones(len(success), dtype=bool)
    return {"final_info": {"episode_summary": episode, "_episode_summary": ended}}


def test_schedules_follow_the_reference_offset_and_alpha_steps():
    offset = TableOffset().schedule
    assert [round(float(offset.scale(k)), 9) for k in range(5)] == [0.3, 0.2, 0.1, 0.0, 0.0]
    assert offset.off_level == 3
    alpha = ObjectForce().schedule
    expected = [0.85 * 0.9**k for k in range(26)] + [0.06, 0.0, 0.0]
    np.testing.assert_allclose(alpha.scale(np.arange(29)), expected)
    assert alpha.off_level == 27


def test_a_delayed_schedule_holds_its_initial_scale_through_its_delay():
    on_side = ObjectOnSide().schedule
    expected = [1.0] * 11 + [0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1, 0.0, 0.0]
    np.testing.assert_allclose(on_side.scale(np.arange(22)), expected, atol=1e-9)
    assert on_side.scale(3) == 1.0 and on_side.off_level == 20
    assert SquaredYaw().schedule.off_level == 10  # the box stands up itself once yaw is free


def test_a_schedule_that_never_ends_is_rejected():
    with pytest.raises(ValueError, match="never reaches"):
        Schedule(initial=1.0)


def test_global_level_is_promoted_only_above_70_percent_success():
    env = make_vec("skillgym/Arm7-Push-v0", 10, privileged=True)
    curriculum = make_curriculum(env, window=10)
    log = curriculum.update(episodes([1] * 7 + [0] * 3))  # exactly 70%: not enough
    assert log["curriculum/privileges_level"] == 0 and log["curriculum/table_offset"] == 0.3
    log = curriculum.update(episodes([1] * 8 + [0] * 2))
    assert log["curriculum/privileges_level"] == 1
    assert log["curriculum/privileges_success"] == pytest.approx(0.8)
    assert log["curriculum/table_offset"] == pytest.approx(0.2)
    assert log["curriculum/object_force"] == pytest.approx(0.85 * 0.9)
    env.reset(seed=0)  # the env takes the new scales at its next episode
    np.testing.assert_allclose(env.privilege_scales["table_offset"], 0.2)


def episodes_until_promoted(rate: float, episodes_total: int) -> int | None:
    """Episodes the default gate takes to promote a policy that succeeds with `rate`, fed 64
    episodes at a time; None if it never does."""
    env = make_vec("skillgym/Arm7-Push-v0", 64, privileged=True)
    curriculum = make_curriculum(env)
    rng = np.random.default_rng(0)
    for seen in range(64, episodes_total + 1, 64):
        if curriculum.update(episodes(rng.random(64) < rate))["curriculum/privileges_level"]:
            return seen
    return None


def test_default_gate_does_not_promote_a_policy_that_succeeds_60_percent_by_luck():
    assert episodes_until_promoted(0.6, 40_000) is None


def test_default_gate_promotes_a_policy_that_succeeds_80_percent_at_its_first_decision():
    assert episodes_until_promoted(0.8, 1_000) == 256


def test_global_level_logs_the_window_it_decided_on_not_the_last_batch():
    env = make_vec("skillgym/Arm7-Push-v0", 2, privileged=True)
    curriculum = make_curriculum(env, window=4)
    log = curriculum.update(episodes([1, 1]))
    assert "curriculum/privileges_success" not in log  # no decision yet
    log = curriculum.update(episodes([0, 0]))
    assert log["curriculum/privileges_success"] == pytest.approx(0.5)
    log = curriculum.update(episodes([1, 1]))  # half a window: the last decision stands
    assert log["curriculum/privileges_success"] == pytest.approx(0.5)


def test_steps_without_finished_episodes_change_nothing():
    env = make_vec("skillgym/Arm7-Push-v0", 2, privileged=True)
    curriculum = make_curriculum(env, window=1)
    log = curriculum.update({"success": np.zeros(2, dtype=bool)})
    assert log["curriculum/privileges_level"] == 0 and curriculum.windows["privileges"][1] == 0


def test_per_env_levels_are_promoted_and_demoted_at_each_env_s_episode_end():
    env = make_vec("skillgym/Arm7-Push-v0", 3, privileged=True)
    curriculum = make_curriculum(env, per_env=True)
    env.reset(seed=0)
    curriculum.update(episodes([1, 1, 0]))
    info = episodes([1, 0, 1])
    info["final_info"]["_episode_summary"] = np.array([True, True, False])  # env 2 still running
    curriculum.update(info)
    assert curriculum.levels["privileges"].tolist() == [2, 0, 0]
    # Envs at the start of an episode (after an auto-reset; here all) take their level at once.
    np.testing.assert_allclose(env.privilege_scales["table_offset"], [0.1, 0.3, 0.3])


def test_every_privilege_is_off_once_the_last_level_is_reached():
    env = make_vec("skillgym/Arm7-Push-v0", 2, privileged=True)
    curriculum = make_curriculum(env, window=2)
    for _ in range(26):
        curriculum.update(episodes([1, 1]))
    assert not curriculum.privileges_off  # alpha still at its 0.06 floor
    log = curriculum.update(episodes([1, 1]))
    assert curriculum.privileges_off and log["curriculum/privileges_off"] == 1.0
    env.reset(seed=0)
    assert all((scale == 0).all() for scale in env.privilege_scales.values())


def test_state_dict_round_trips_through_json_and_restores_the_env_scales():
    env = make_vec("skillgym/Arm7-Push-v0", 4, privileged=True)
    curriculum = make_curriculum(env, window=4)
    curriculum.update(episodes([1, 1, 1, 1]))
    curriculum.update(episodes([1, 0]))  # half a window, kept in the state
    saved = json.loads(json.dumps(curriculum.state_dict()))
    resumed_env = make_vec("skillgym/Arm7-Push-v0", 4, privileged=True)
    resumed = make_curriculum(resumed_env, window=4)
    resumed.load_state_dict(saved)
    assert resumed.state_dict() == curriculum.state_dict()
    resumed_env.reset(seed=0)
    np.testing.assert_allclose(resumed_env.privilege_scales["table_offset"], 0.2)
    resumed.update(episodes([1, 1]))  # completes the saved window: 3 of 4 succeeded
    assert resumed.levels["privileges"] == 2


def test_per_env_levels_continue_a_global_level_with_every_env_at_it():
    env = make_vec("skillgym/Arm7-Push-v0", 3, privileged=True)
    curriculum = make_curriculum(env, window=3)
    curriculum.update(episodes([1, 1, 1]))
    per_env = make_curriculum(make_vec("skillgym/Arm7-Push-v0", 3, privileged=True), per_env=True)
    per_env.load_state_dict(json.loads(json.dumps(curriculum.state_dict())))
    assert per_env.levels["privileges"].tolist() == [1, 1, 1]
    per_env.update(episodes([1, 0, 1]))
    assert per_env.levels["privileges"].tolist() == [2, 0, 2]


def test_walk_commands_widen_as_tracking_error_falls_on_their_own_level():
    env = make_vec("skillgym/Tall19-Walk-v0", 2, privileged=True)
    curriculum = make_curriculum(env, window=2)
    log = curriculum.update(episodes([0, 0], velocity_error=[0.1, 0.2]))  # tracks, but falls
    assert log["curriculum/commands_level"] == 1 and log["curriculum/privileges_level"] == 0
    assert log["curriculum/narrow_commands"] == pytest.approx(0.6)
    log = curriculum.update(episodes([1, 1], velocity_error=[0.4, 0.5]))
    assert log["curriculum/commands_level"] == 1 and log["curriculum/privileges_level"] == 1


def test_a_curriculum_needs_every_privilege_driven_by_one_term():
    env = make_vec("skillgym/Arm7-Push-v0", 2, privileged=True)
    with pytest.raises(ValueError, match="exactly one"):
        Curriculum(env, (LevelTerm("offset", ("table_offset",)),))
    with pytest.raises(ValueError, match="privileged=True"):
        make_curriculum(make_vec("skillgym/Arm7-Push-v0", 2))


@pytest.mark.parametrize("gate", [{"success_rate": 1.0}, {"command_error": 0.0}])
def test_make_curriculum_refuses_a_gate_no_policy_can_pass(gate):
    env = make_vec("skillgym/Tall19-Walk-v0", 2, privileged=True)
    with pytest.raises(ValueError, match=next(iter(gate))):
        make_curriculum(env, **gate)
