"""The activities of a course: sections, modules, their settings, grade items, calendar.

A weekly course has a reading page and slides every week, a quiz every other
week, an assignment every third week and a final project, an announcements
forum, a discussion forum, a syllabus link and an end-of-course survey; the
self-paced course has a quiz per topic instead of assignments. Each activity
gets its instance row, course_modules row, context, grade item (quizzes and
assignments), completion settings and calendar events.
"""

from __future__ import annotations

from moodle_analytics.demo.config import DAY, WEEK
from moodle_analytics.demo.site import MODULE_IDS, Activity, Course, SiteRows, term_code

# The name of a break week's section, by the term's code (see courses.break_week).
BREAK_NAMES = {"FA": "Reading week", "SP": "Easter break"}


def instance_settings(course: Course, activity: Activity, created: int) -> dict:
    """The columns of an activity's own table (page, quiz, assign ...) beyond the common ones."""
    tracked = course.has_completion
    settings = {
        "page": {
            "content": f"<p>{activity.name}</p>", "contentformat": 1, "display": 5, "revision": 1,
        },
        "resource": {"display": 0, "revision": 1},
        "url": {"externalurl": "https://example.edu/syllabus", "display": 0},
        "forum": {
            "type": activity.forum_type,
            "forcesubscribe": 1 if activity.forum_type == "news" else 0,
        },
        "feedback": {
            "anonymous": 1, "page_after_submit": "", "completionsubmit": 1 if tracked else 0,
        },
    }  # fmt: skip
    if activity.module == "quiz":
        return {
            "timeopen": activity.opens_at,
            "timeclose": activity.due_at,
            "timelimit": 1800,
            "attempts": activity.max_attempts,
            "grademethod": 1,
            "sumgrades": 20.0,
            "grade": activity.grademax,
            "preferredbehaviour": "deferredfeedback",
            "timecreated": created,
        }
    if activity.module == "assign":
        return {
            "alwaysshowdescription": 1,
            "submissiondrafts": 1 if course.id % 3 == 0 else 0,
            "duedate": activity.due_at,
            "allowsubmissionsfromdate": activity.opens_at,
            "grade": int(activity.grademax),
            "cutoffdate": activity.cutoff_at,
            "gradingduedate": activity.due_at + 7 * DAY,
            "completionsubmit": 1 if tracked else 0,
            "attemptreopenmethod": "untilpass" if activity.max_attempts > 1 else "none",
            "maxattempts": activity.max_attempts,
        }
    return settings[activity.module]


def completion_settings(course: Course, activity: Activity) -> tuple[int, int, int, int]:
    """course_modules completion, completionview, completionexpected, completionpassgrade.

    Nothing is tracked in a course without completion tracking.
    """
    if not course.has_completion:
        return 0, 0, 0, 0
    module = activity.module
    if module == "page":
        expected = 0
        if course.id % 2 == 1 and course.start_at:
            expected = course.start_at + activity.week * WEEK - 1
        return 2, 1, expected, 0
    if module == "resource":
        return 1, 0, 0, 0
    if module == "feedback":
        return 2, 0, 0, 0
    if module == "quiz":
        return 2, 0, activity.due_at, 1 if activity.gradepass > 0 else 0
    if module == "assign":
        return 2, 0, activity.due_at, 0
    return 0, 0, 0, 0


class ActivityBuilder:
    def __init__(self, rows: SiteRows):
        self.rows = rows

    def add(self, course: Course, created: int) -> None:
        """A course's sections, activities and completion criteria."""
        self.section_ids = {
            section: self.rows.ids.next("course_sections") for section in range(course.weeks + 1)
        }
        self.sequences: dict[int, list[int]] = {section: [] for section in self.section_ids}
        self.plan_activities(course)
        for activity in course.activities:
            self.add_activity_rows(course, activity, created)
        if course.has_completion:
            self.add_completion_criteria(course)
        self.add_sections(course, created)

    def new_activity(
        self, course: Course, module: str, section: int, name: str, **settings
    ) -> Activity:
        instance_id = self.rows.ids.next(module)
        cm_id = self.rows.ids.next("course_modules")
        context_id = self.rows.new_context(70, cm_id, self.rows.context_path(course.context_id))
        activity = Activity(
            cm_id=cm_id,
            course_id=course.id,
            module=module,
            instance_id=instance_id,
            name=name,
            week=section,
            context_id=context_id,
            **settings,
        )
        course.activities.append(activity)
        self.sequences[section].append(cm_id)
        return activity

    def plan_activities(self, course: Course) -> None:
        """Forums and the syllabus first, then each week's content (none in a break)."""
        add = self.new_activity
        add(course, "forum", 0, "Announcements", forum_type="news")
        add(course, "forum", 0, "Course discussion", forum_type="general")
        add(course, "url", 0, "Course syllabus")
        topic = "Topic" if course.is_self_paced else "Week"
        quizzes = assignments = 0
        for week in range(1, course.weeks + 1):
            if week == course.break_week:
                continue
            add(course, "page", week, f"{topic} {week}: reading")
            add(course, "resource", week, f"{topic} {week}: slides")
            opens = course.start_at + (week - 1) * WEEK if course.start_at else 0
            if week % 2 == 0 or course.is_self_paced:
                quizzes += 1
                add(
                    course, "quiz", week, f"Quiz {quizzes}",
                    opens_at=opens,
                    due_at=opens + WEEK + 2 * DAY if opens else 0,
                    grademax=10.0,
                    gradepass=0.0 if course.id % 4 == 2 else 6.0,
                    max_attempts=0 if quizzes % 2 == 0 else 2,
                )  # fmt: skip
            if not course.is_self_paced and (week % 3 == 0 or week == course.weeks):
                due = opens + 4 * DAY + 23 * 3600 + 59 * 60
                final = week == course.weeks
                assignments += 0 if final else 1
                add(
                    course, "assign", week,
                    "Final project" if final else f"Assignment {assignments}",
                    opens_at=max(course.start_at, opens - 2 * WEEK),
                    due_at=due,
                    cutoff_at=due + 7 * DAY if week % 2 == 0 else 0,
                    grademax=100.0,
                    gradepass=0.0 if course.id % 4 == 3 else 50.0,
                    max_attempts=2 if week % 2 == 1 else 1,
                )  # fmt: skip
        if not course.is_self_paced:
            add(course, "feedback", course.weeks, "End of course survey", anonymous=True)

    def add_completion_criteria(self, course: Course) -> None:
        """Completion asks for every assignment handed in (the self-paced course
        has none: its quizzes); the course grade is added when it settles."""
        required = [a for a in course.activities if a.module == "assign"] or [
            a for a in course.activities if a.module == "quiz"
        ]
        for activity in required:
            self.rows.add(
                "course_completion_criteria",
                {
                    "id": self.rows.ids.next("course_completion_criteria"),
                    "course": course.id,
                    "criteriatype": 4,  # activity completion
                    "module": activity.module,
                    "moduleinstance": activity.cm_id,
                },
            )

    def add_sections(self, course: Course, created: int) -> None:
        topic = "Topic" if course.is_self_paced else "Week"
        for section, section_id in self.section_ids.items():
            name = None if section == 0 else f"{topic} {section}"
            if section and section == course.break_week:
                name = BREAK_NAMES[term_code(course.start_at)[-2:]]
            self.rows.add(
                "course_sections",
                {
                    "id": section_id,
                    "course": course.id,
                    "section": section,
                    "name": name,
                    "summary": "",
                    "summaryformat": 1,
                    "sequence": ",".join(str(cm) for cm in self.sequences[section]),
                    "visible": 1,
                    "timemodified": created,
                },
            )

    def add_activity_rows(self, course: Course, activity: Activity, created: int) -> None:
        module = activity.module
        instance = {
            "id": activity.instance_id,
            "course": course.id,
            "name": activity.name,
            "intro": "",
            "introformat": 1,
            "timemodified": created,
        }
        instance.update(instance_settings(course, activity, created))
        completion, completion_view, expected, pass_grade = completion_settings(course, activity)
        activity.completion = completion
        self.rows.add(module, instance)
        if module in ("quiz", "assign"):
            activity.grade_item_id = self.rows.add_grade_item(
                course, created, "mod", module, activity.instance_id,
                activity.grademax, activity.gradepass, activity.name,
            )  # fmt: skip
        self.rows.add(
            "course_modules",
            {
                "id": activity.cm_id,
                "course": course.id,
                "module": MODULE_IDS[module],
                "instance": activity.instance_id,
                "section": self.section_ids[activity.week],
                "idnumber": "",
                "added": created,
                "visible": 1,
                "visibleoncoursepage": 1,
                "visibleold": 1,
                "completion": completion,
                "completionview": completion_view,
                "completionexpected": expected,
                "completionpassgrade": pass_grade,
                "completiongradeitemnumber": 0 if pass_grade else None,
                "downloadcontent": 1,
            },
        )
        self.add_calendar_events(course, activity, expected)

    def add_calendar_events(self, course: Course, activity: Activity, expected: int) -> None:
        teacher = course.teacher_ids[0]
        events = []
        if activity.module == "assign" and activity.due_at:
            events.append(("due", f"{activity.name} is due", activity.due_at, 1))
            events.append(("gradingdue", f"{activity.name} is due to be graded",
                           activity.due_at + 7 * DAY, 1))  # fmt: skip
        if activity.module == "quiz" and activity.due_at:
            events.append(("open", f"{activity.name} opens", activity.opens_at, 0))
            events.append(("close", f"{activity.name} closes", activity.due_at, 1))
        for eventtype, name, time, event_type in events:
            self.calendar_event(course.id, teacher, name, time, eventtype, activity, event_type)
        if expected and activity.module == "page":
            self.calendar_event(
                course.id, teacher, f"{activity.name} should be completed",
                expected, "expectcompletionon", activity, 1,
            )  # fmt: skip

    def calendar_event(
        self,
        course_id: int,
        user_id: int,
        name: str,
        time: int,
        eventtype: str,
        activity: Activity | None = None,
        event_type: int = 0,
    ) -> None:
        self.rows.add(
            "event",
            {
                "id": self.rows.ids.next("event"),
                "name": name,
                "description": "",
                "format": 1,
                "courseid": course_id,
                "userid": user_id,
                "component": f"mod_{activity.module}" if activity else None,
                "modulename": activity.module if activity else "",
                "instance": activity.instance_id if activity else 0,
                "type": event_type,
                "eventtype": eventtype,
                "timestart": time,
                "timeduration": 0,
                "timesort": time,
                "visible": 1,
                "timemodified": self.rows.course_created_at[course_id] + 3600,
            },
        )
