"""Curricula that take a training env's privileges away as the policy improves."""

from skillgym.curricula.levels import Curriculum, LevelTerm, make_curriculum

__all__ = ["Curriculum", "LevelTerm", "make_curriculum"]
