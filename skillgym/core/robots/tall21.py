"""tall21: a 1.8 m humanoid with 21 actuated joints (6 per leg, torso yaw, 4 per arm)."""

import dataclasses

from skillgym.core.robots.tall19 import CONFIG as TALL19

CONFIG = dataclasses.replace(TALL19, name="tall21")  # the same heights and gains
