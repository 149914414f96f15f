"""How each learner-course is designed to go, and how active it is week by week.

Every learner-course gets three designs when the learner enrols:

- latent engagement and ability: the learner's traits, with a wobble per
  course (engagement drives how often they come, ability how well they do);
- a trajectory, when they take part: `steady` (to the end), `fade_out`
  (active up to last_active_week, quieter in the weeks before it, then gone:
  the designed dropout) or `never_start`;
- a persona, how they work while they take part: `engaged` (comes often,
  does the work), `efficient` (a few short sessions, yet hands everything in
  on time and does well: quiet but passing) or `struggling` (clicks a lot,
  views much, but misses or is late with work and scores low: active but
  failing).

So that activity alone does not tell who passes: efficient learners pass
with little activity, struggling learners fail with a lot, and a course may
have a break week (a reading week or Easter) when nearly everyone is quiet
and after which they come back.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from moodle_analytics.demo.site import _sigmoid as sigmoid


@dataclass(frozen=True)
class Persona:
    """How a persona changes what an average learner would do."""

    session_rate: float  # times the sessions per week
    session_size: float  # times the events per session
    attempts: float  # added to the log-odds of attempting a quiz
    hands_in: float  # added to the log-odds of handing an assignment in
    lateness: float  # added to the log-odds of handing it in late
    quality: float  # added to ability in every grade


PERSONAS = {
    "engaged": Persona(1.0, 1.0, 0.0, 0.0, 0.0, 0.0),
    "efficient": Persona(0.4, 0.6, 2.0, 2.5, -1.5, 0.5),
    "struggling": Persona(1.15, 1.2, -0.2, -1.7, 1.3, -1.3),
}
# Sorted, so that a code is a name's position (persona_codes).
PERSONA_NAMES = tuple(sorted(PERSONAS))
TRAITS = {
    trait: np.array([getattr(PERSONAS[name], trait) for name in PERSONA_NAMES])
    for trait in Persona.__dataclass_fields__
}
# Share of a break week's learners who still come, and how much.
BREAK_WEEK_VISITORS, BREAK_WEEK_LEVEL = 0.12, 0.25


@dataclass(frozen=True)
class Design:
    engagement: float
    ability: float
    trajectory: str
    last_active_week: int  # 0 for never_start, the course's weeks for steady
    persona: str


def design_learner_course(
    rng: np.random.Generator, traits: tuple[float, float], weeks: int
) -> Design:
    """Draw a learner-course's engagement, ability, trajectory and persona."""
    engagement = traits[0] + float(rng.normal(0, 0.45))
    ability = traits[1] + float(rng.normal(0, 0.35))
    never = sigmoid(-3.2 - 0.7 * engagement)
    fade = sigmoid(-1.9 - 1.0 * engagement)
    draw = rng.random()
    if draw < never:
        trajectory, last_week = "never_start", 0
    elif draw < never + fade:
        # Anywhere up to about 70% of the course: some leave early, many later.
        trajectory = "fade_out"
        last_week = 1 + int(rng.beta(1.4, 1.6) * (int(0.72 * weeks) - 1))
    else:
        trajectory, last_week = "steady", weeks
    struggling = sigmoid(-1.8 - 0.9 * ability)
    efficient = sigmoid(-1.9 + 0.6 * ability - 0.3 * engagement)
    draw = rng.random()
    persona = (
        "struggling" if draw < struggling else "efficient" if draw < struggling + efficient else
        "engaged"
    )  # fmt: skip
    return Design(engagement, ability, trajectory, last_week, persona)


def last_week_on_calendar(design: Design, first_week: int, break_week: int) -> int:
    """A fading learner's last active week: not before they join, not in a break."""
    last = design.last_active_week
    if design.trajectory != "fade_out":
        return last
    last = max(last, first_week)
    if last == break_week:
        # Nobody is active in a break: they did not come back after it.
        last = break_week - 1 if break_week - 1 >= first_week else break_week + 1
    return last


def quality(persona: str, ability: float) -> float:
    """Ability as a learner-course's grades see it."""
    return ability + PERSONAS[persona].quality


def persona_codes(names: np.ndarray) -> np.ndarray:
    """Personas by name as small codes (positions in PERSONA_NAMES): sites hold many."""
    return np.searchsorted(PERSONA_NAMES, names).astype(np.int8)


def persona_trait(lc: dict[str, np.ndarray], members: np.ndarray, trait: str) -> np.ndarray:
    """A Persona field (session_rate ... lateness) of each learner-course's persona."""
    return TRAITS[trait][lc["persona"][members]]


def quality_of(lc: dict[str, np.ndarray], members) -> np.ndarray:
    """Ability as each learner-course's grades see it (the persona shifts it)."""
    return lc["ability"][members] + TRAITS["quality"][lc["persona"][members]]


def activity_level(
    lc: dict[str, np.ndarray],
    members: np.ndarray,
    week: int,
    rng: np.random.Generator,
    break_week: int = 0,
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
    if week == break_week:
        visits = rng.random(len(members)) < BREAK_WEEK_VISITORS
        level = np.where(visits, level * BREAK_WEEK_LEVEL, 0.0)
    return level
