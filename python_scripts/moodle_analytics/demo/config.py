"""Settings of the demo site: its size, its calendar and its seed."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from moodle_analytics.pseudonyms import new_secret

WEEK = 7 * 24 * 3600
DAY = 24 * 3600

# Log rows of a site, fitted on the generator at the default behaviour mix and
# used only to size --target-log-rows: per site week (visitors, admin), per
# course (staff, setup) and per learner-course of a 14-week term. Seeds differ
# by a few per cent around this.
LOG_ROWS_PER_SITE_WEEK = 40
LOG_ROWS_PER_COURSE = 300
LOG_ROWS_PER_LEARNER_COURSE = 236


class ConfigError(ValueError):
    """A setting that cannot describe a site; the message says which and why."""


@dataclass(frozen=True)
class DemoConfig:
    seed: int = 42
    # The moment the demo database is a snapshot of. The current term is in
    # progress then; earlier terms are finished.
    as_of: datetime = datetime(2026, 10, 22, 12, 0, tzinfo=UTC)
    terms: int = 4
    weeks_per_term: int = 14
    # Course week of the current term that contains the as-of moment.
    current_week: int = 7
    courses_per_term: int = 6
    learners_per_course: int = 70
    # Injected bad log rows of each kind (bad time, unknown user, ...), so the
    # quarantine has something to catch. 0 for a clean database.
    anomalies_per_kind: int = 5
    # The demo's own pseudonym secret, random per generated site (not from the
    # seed: a public seed would make the demo's learner ids reversible).
    pseudonym_secret: str = field(default_factory=new_secret, repr=False)
    extra: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        checks = [
            (self.terms >= 1, "--terms must be at least 1"),
            (4 <= self.weeks_per_term <= 52, "--weeks must be between 4 and 52"),
            (
                1 <= self.current_week <= self.weeks_per_term,
                f"--current-week must be between 1 and --weeks ({self.weeks_per_term})",
            ),
            (1 <= self.courses_per_term <= 500, "--courses-per-term must be between 1 and 500"),
            (
                5 <= self.learners_per_course <= 20000,
                "--learners-per-course must be between 5 and 20000",
            ),
            (self.anomalies_per_kind >= 0, "--anomalies must not be negative"),
            (self.as_of.tzinfo is not None, "--as-of needs a timezone (it is read as UTC)"),
            (
                datetime(2005, 1, 1, tzinfo=UTC) < self.as_of < datetime(2100, 1, 1, tzinfo=UTC),
                "--as-of must lie between 2005 and 2100",
            ),
        ]
        for ok, message in checks:
            if not ok:
                raise ConfigError(message)

    @property
    def as_of_epoch(self) -> int:
        return int(self.as_of.timestamp())

    def term_starts(self) -> list[int]:
        """Epoch of the Monday 00:00 UTC that starts week 1 of each term, oldest first.

        Terms are half a year apart; the last one is running at the as-of moment.
        """
        as_of_day = self.as_of.replace(hour=0, minute=0, second=0, microsecond=0)
        monday = as_of_day - timedelta(days=as_of_day.weekday())
        current_start = monday - timedelta(weeks=self.current_week - 1)
        return [
            int((current_start - timedelta(weeks=26 * (self.terms - 1 - k))).timestamp())
            for k in range(self.terms)
        ]


def learners_for_target_rows(
    target_rows: int, terms: int, courses_per_term: int, weeks_per_term: int = 14
) -> int:
    """Learners per course that give about target_rows log rows."""
    courses = terms * courses_per_term
    fixed = LOG_ROWS_PER_SITE_WEEK * 26 * terms + LOG_ROWS_PER_COURSE * courses
    # The self-paced course takes half a course's learners on top.
    per_learner = LOG_ROWS_PER_LEARNER_COURSE * (courses + 0.5) * weeks_per_term / 14
    return max(5, round(max(target_rows - fixed, 0) / per_learner))
