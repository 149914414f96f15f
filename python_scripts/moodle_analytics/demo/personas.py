"""How each learner-course is designed to go, and how active it is week by week."""

from __future__ import annotations

import numpy as np


def activity_level(
    lc: dict[str, np.ndarray], members: np.ndarray, week: int, rng: np.random.Generator
) -> np.ndarray:
    """How active each learner-course is in a course week (0 = not at all)."""
    trajectory = lc["trajectory"][members]
    last = lc["last_active_week"][members]
    first = lc["first_week"][members]
    noise = rng.gamma(6.0, 1 / 6.0, len(members))
    level = np.where(trajectory == "steady", noise, 0.0)
    fading = trajectory == "fade_out"
    ramp = np.clip(1.0 - 0.22 * (week - (last - 3)), 0.3, 1.0)
    level = np.where(fading & (week <= last), noise * ramp, level)
    level[(week < first) | (week > last)] = 0.0
    return level
