"""Gradebook exports (--grades) attached to courses and people, and written as
Moodle's grade categories, items and grades."""

from __future__ import annotations

from datetime import date

import pandas as pd

from moodle_analytics.logs_report.common import SITE_COURSE_ID
from moodle_analytics.logs_report.gradebook import Gradebook, inferred_grademax


class GradeSteps:
    """The steps of an import (LogsReportImport) that write its gradebooks."""

    def match_grade_people(self, frame, gradebooks: list[Gradebook], courses, modules, names):
        """Attach each gradebook to a course and each person to a user id."""
        self.gradebook_courses: list[int | None] = []
        self.gradebook_users: list[list[int | None]] = []
        self.user_details: dict[int, dict] = {}
        people_by_course: dict[int, set[int]] = {}
        id_by_name: dict[str, int | None] = {}
        ids_by_name: dict[str, set[int]] = {}
        for user, name in names.items():
            id_by_name[name] = None if name in id_by_name else user
            ids_by_name.setdefault(name, set()).add(user)
        # A name an id also goes by, where it is the only id to.
        for name, ids in self.ids_by_seen_name.items():
            ids_by_name.setdefault(name, set()).update(ids)
            if name not in id_by_name:
                id_by_name[name] = next(iter(ids)) if len(ids) == 1 else None
        # The log holds no e-mail addresses; one gradebook's serve the next.
        id_by_email: dict[str, int] = {}
        seen = pd.concat(
            [
                frame[["courseid", "userid"]],
                frame[["courseid", "relateduserid"]]
                .dropna()
                .rename(columns={"relateduserid": "userid"})
                .astype({"userid": "int64"}),
            ]
        )
        seen_by_course = seen.groupby("courseid")["userid"].agg(set).to_dict()
        for path, book in zip(self.options.grades, gradebooks, strict=True):
            given = self.options.grade_courses.get(str(path))
            if given is not None:
                course = next(iter(self.course_dates(courses, None, {given: date.min})))
            else:
                course = self.gradebook_course(book, courses, modules, seen_by_course, id_by_name)
            self.gradebook_courses.append(course)
            users = []
            unmatched = 0
            for person in book.people:
                email = person.fields.get("email", "").casefold()
                user = id_by_email.get(email) if email else None
                user = user if user is not None else id_by_name.get(person.full_name)
                if user is None and person.full_name in id_by_name and course is not None:
                    # Namesakes: the one in the gradebook's course.
                    here = ids_by_name[person.full_name] & seen_by_course.get(course, set())
                    user = next(iter(here)) if len(here) == 1 else None
                if user is None and person.full_name in id_by_name:
                    self.totals.notes.append(
                        f"{book.path}: {person.full_name!r} fits several users; skipped"
                    )
                    users.append(None)
                    continue
                if user is None:
                    user = self.synthetic_user_id(frame)
                    names[user] = person.full_name
                    id_by_name[person.full_name] = user
                    unmatched += 1
                self.user_details[user] = person.fields
                if email:
                    id_by_email[email] = user
                users.append(user)
                if course is not None:
                    people_by_course.setdefault(course, set()).add(user)
            self.gradebook_users.append(users)
            if unmatched:
                self.totals.notes.append(
                    f"{book.path}: {unmatched} of {len(book.people)} people are nowhere in the "
                    "downloads by name (masked names?); kept as learners never seen in the log"
                )
        return people_by_course

    def gradebook_course(
        self, book: Gradebook, courses, modules, seen_by_course, id_by_name
    ) -> int | None:
        """The course of a gradebook: the only one, else the one in whose log most of
        its people appear (this term's offering of a course names the same activities
        as last term's, but not the same learners), then whose activities it names."""
        teaching = [c for c in courses if c != SITE_COURSE_ID] or list(courses)
        if len(teaching) == 1:
            return teaching[0]
        items = {(c.module, c.name) for c in book.columns if c.itemtype == "mod"}
        people = {id_by_name.get(person.full_name) for person in book.people} - {None}
        scores = {}
        for course in teaching:
            rows = modules[modules["course"] == course]
            named = len(items & set(zip(rows["module"], rows["name"], strict=True)))
            scores[course] = (len(people & seen_by_course.get(course, set())), named)
        ranked = sorted(scores.items(), key=lambda kv: kv[1], reverse=True)
        best, score = ranked[0]
        if score == (0, 0):
            self.totals.notes.append(
                f"{book.path}: no course's learners or activities match; skipped "
                "(give it as --grades COURSE=FILE)"
            )
            return None
        if len(ranked) > 1 and ranked[1][1] == score:
            tied = ", ".join(str(course) for course, value in ranked if value == score)
            self.totals.notes.append(
                f"{book.path}: fits courses {tied} equally; skipped "
                "(give it as --grades COURSE=FILE)"
            )
            return None
        return int(best)

    def grades_known_at(self, book: Gradebook, newest_row: int) -> int:
        """When a gradebook's grades were known: when it was downloaded (in
        --timezone), else when the newest row of the log downloads was written."""
        if book.downloaded_at is None:
            return newest_row
        moment = pd.Timestamp(book.downloaded_at).tz_localize(
            self.options.timezone, ambiguous=True, nonexistent="shift_forward"
        )
        return int(moment.timestamp())

    def build_grades(self, gradebooks: list[Gradebook], courses, modules, newest_row) -> None:
        categories, items, grades = [], [], []
        for book, course, users in zip(
            gradebooks, self.gradebook_courses, self.gradebook_users, strict=True
        ):
            if course is None:
                continue
            created = int(self.tables["course"].set_index("id").loc[course, "timecreated"])
            graded = self.grades_known_at(book, newest_row)
            category = len(categories) + 1
            categories.append(
                {
                    "id": category,
                    "courseid": course,
                    "depth": 1,
                    "path": f"/{category}/",
                    "fullname": "?",
                    "aggregation": 13,
                    "timecreated": created,
                    "timemodified": created,
                }
            )
            course_modules = modules[modules["course"] == course]
            for position, column in enumerate(book.columns):
                values = [person.grades[position] for person in book.people]
                grademax = self.options.grade_max.get(column.name)
                grademax = grademax or inferred_grademax(values, column.display)
                gradepass = self.options.grade_pass.get(column.name, 0.0)
                item = {
                    "id": len(items) + 1,
                    "courseid": course,
                    "itemname": column.name,
                    "itemtype": column.itemtype,
                    "categoryid": category,
                    "grademax": grademax,
                    "gradepass": gradepass,
                    "sortorder": len(items) + 1,
                    "timecreated": created,
                    "timemodified": created,
                }
                if column.itemtype == "course":
                    item.update(itemname=None, categoryid=None, iteminstance=category)
                elif column.itemtype == "mod":
                    match = course_modules[
                        (course_modules["module"] == column.module)
                        & (course_modules["name"] == column.name)
                    ]
                    if match.empty:
                        self.totals.notes.append(
                            f"{book.path}: {column.header!r} matches no activity in the log; "
                            "kept as a manual item"
                        )
                        item["itemtype"] = "manual"
                    else:
                        module, instance = self.instance_of[int(match["cmid"].iloc[0])]
                        item.update(itemmodule=module, iteminstance=instance, itemnumber=0)
                        self.set_instance_grade(module, instance, grademax)
                items.append(item)
                for user, value in zip(users, values, strict=True):
                    if user is None or value is None:
                        continue
                    grades.append(
                        {
                            "id": len(grades) + 1,
                            "itemid": item["id"],
                            "userid": user,
                            "rawgrade": value,
                            "finalgrade": value,
                            "rawgrademax": grademax,
                            "aggregationstatus": "used",
                            "timecreated": graded,
                            "timemodified": graded,
                        }
                    )
        self.tables["grade_categories"] = pd.DataFrame(categories)
        self.tables["grade_items"] = pd.DataFrame(items)
        self.tables["grade_grades"] = pd.DataFrame(grades)
        for module, rows in self.instance_rows.items():
            self.tables[module] = pd.DataFrame(rows)
        self.totals.grades = len(grades)

    def set_instance_grade(self, module: str, instance: int, grademax: float) -> None:
        if module in ("quiz", "assign"):
            row = self.instance_rows[module][instance - 1]
            row["grade"] = int(grademax) if module == "assign" else grademax
