"""Curricula that take a training env's privileges away as the policy improves."""

from skillgym.curricula.levels import (
    COMMAND_ERROR,
    Curriculum,
    LevelTerm,
    check_gates,
    make_curriculum,
)

__all__ = ["COMMAND_ERROR", "Curriculum", "LevelTerm", "check_gates", "make_curriculum"]
