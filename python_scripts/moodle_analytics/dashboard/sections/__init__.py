"""The sections of the dashboard page, each a function from the warehouse to a Section.

* site.py: key figures (at the top), lists to act on, where the log rows went, and
  the moment the data is as of (latest_activity, for the page header);
* activity.py: weekly active learners per course, the site's engagement trend;
* risk.py: risk scores and segments, the intervention queue, the backtest;
* courses.py: course and teacher comparison (the teachers' pages are linked from it),
  programme progress;
* parts.py: what they are made of (@section, @figure, table, cards); values.py:
  numbers and text read out of the marts' frames.

To add a section, write a function returning its body (HTML) in the module of its
theme, under @section with its id and the tables it reads; its docstring gives the
section's title (first line) and lead. A chart is a function returning SVG under
@figure, its docstring the figure's title and caption:

    @section("my-section", needs=["fct_my_table"])
    def my_section(wh: Warehouse) -> str:
        '''My section

        What it shows, for whom.
        '''
        frame = wh.frame("select ... from {t}", t="fct_my_table")
        return my_chart(frame) + table(frame, columns, table_id="my-table")

then put it in SECTIONS below, where the page should show it. Without one of its
tables the page shows the section naming the tables `dbt build` makes, never
anything else; raise Unavailable([...]) for a missing column.

Read the marts only through wh (frame, scalar, records): the page builds each section
once for the page's courses and once per course, and wh narrows every table read to
them (warehouse.Scope); a section that reads no table a course narrows is shown once,
as the whole site's.
"""

from __future__ import annotations

from collections.abc import Callable

from moodle_analytics.dashboard.sections.activity import engagement_trend, weekly_active
from moodle_analytics.dashboard.sections.courses import (
    course_comparison,
    programme_progress,
    teacher_comparison,
)
from moodle_analytics.dashboard.sections.evaluation import risk_evaluation
from moodle_analytics.dashboard.sections.parts import Section
from moodle_analytics.dashboard.sections.risk import backtest, intervention_queue, risk
from moodle_analytics.dashboard.sections.site import (
    action_lists,
    data_quality,
    latest_activity,
    overview,
)
from moodle_analytics.dashboard.warehouse import Warehouse

__all__ = ["SECTIONS", "Section", "latest_activity"]

# The page's sections, in page order.
SECTIONS: tuple[Callable[[Warehouse], Section], ...] = (
    overview,
    weekly_active,
    engagement_trend,
    risk,
    intervention_queue,
    course_comparison,
    teacher_comparison,
    programme_progress,
    action_lists,
    risk_evaluation,
    backtest,
    data_quality,
)
