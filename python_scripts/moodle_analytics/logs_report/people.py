"""Who is who: the user ids of each row of the downloads, and each course's learners.

Ids come from the Description; a name the download shows next to an id lends
it to rows without one ("Real user as User" rows give realuserid). In a
download whose Descriptions name no ids (masked as 'x', or absent) a person is
their User full name (and Affected user): the import warns that it tells
people apart by name, and stops when most rows of a download would resolve to
no user at all. Learners come from the roster when given, else from the log
(learners.py).
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from moodle_analytics.logs_report.common import SITE_COURSE_ID, mode_map, unique_map
from moodle_analytics.logs_report.learners import infer_roles, read_roster
from moodle_analytics.logs_report.report_format import MASKED_NAMES


def split_login_as(names: Sequence[str], known: set[str]) -> dict[str, tuple[str, str]]:
    """'Real user as User' -> (real, as) for names holding ' as '.

    Where a name has several ' as ', the split whose parts are names seen on
    their own wins; else the first."""
    result = {}
    for name in names:
        pieces = name.split(" as ")
        if len(pieces) < 2 or name in known:
            continue
        splits = [(" as ".join(pieces[:i]), " as ".join(pieces[i:])) for i in range(1, len(pieces))]
        best = next((s for s in splits if s[0] in known or s[1] in known), splits[0])
        result[name] = best
    return result


def _pick(candidates: set[int], actor: float) -> float:
    """The one candidate id, else the actor when among them, else unknown."""
    if len(candidates) == 1:
        return float(next(iter(candidates)))
    return actor if actor in candidates else float("nan")


class PeopleSteps:
    """The steps of an import (LogsReportImport) that resolve people."""

    def resolve_people(self, frame: pd.DataFrame) -> dict[int, str]:
        """userid, relateduserid and realuserid of each row; returns id -> name."""
        user = frame["user"]
        masked = user.isin(MASKED_NAMES)
        plain_names = set(user[~masked & ~user.str.contains(" as ", regex=False)])
        login_as = split_login_as(
            list(user[user.str.contains(" as ", regex=False)].unique()), plain_names
        )
        acting_name = user.map(lambda n: login_as.get(n, (None, n))[1]).where(~masked)
        real_name = user.map(lambda n: login_as.get(n, (None, None))[0])
        affected = frame["affected"].where(~frame["affected"].isin(MASKED_NAMES))
        actor_known = frame["d_actor_in_text"] & frame["d_userid"].notna()
        # Events on a user record (user created, ...) affect the object user.
        user_object = (
            (frame["e_objecttable"] == "user")
            & frame["d_relateduserid"].isna()
            & frame["d_objectid"].notna()
        )
        pairs = pd.concat(
            [
                pd.DataFrame(
                    {"name": acting_name[actor_known], "id": frame["d_userid"][actor_known]}
                ),
                pd.DataFrame({"name": affected, "id": frame["d_relateduserid"]}),
                pd.DataFrame(
                    {"name": affected[user_object], "id": frame["d_objectid"][user_object]}
                ),
            ]
        ).dropna()
        pairs["id"] = pairs["id"].astype("int64")
        pairs = pairs[pairs["id"] > 0]
        id_by_name = unique_map(pairs, "name", "id")
        ids_by_name = pairs.groupby("name")["id"].agg(set).to_dict()
        # Every name each id goes by (a pseudonym in one download, the name in another).
        self.ids_by_seen_name = {name: {int(i) for i in ids} for name, ids in ids_by_name.items()}
        name_by_id = mode_map(pairs, "id", "name")

        related = frame["d_relateduserid"].copy()
        related[user_object & affected.notna()] = frame["d_objectid"]
        from_affected = related.isna() & affected.notna()
        if from_affected.any():
            # Namesakes: an affected user named like the actor is the actor.
            actor = frame["d_userid"].where(actor_known)
            related[from_affected] = [
                _pick(ids_by_name.get(name, set()), acting)
                for name, acting in zip(affected[from_affected], actor[from_affected], strict=True)
            ]
        userid = frame["d_userid"].where(actor_known)
        missing = userid.isna()
        if missing.any():
            # Sentences that name only the affected user (quiz attempt started,
            # submitted, ...): the actor is that user unless the name says otherwise.
            name = acting_name[missing]
            related_name = related[missing].map(name_by_id)
            by_name = name.map(id_by_name)
            chosen = related[missing].where(
                (name == related_name) | by_name.isna() | name.isna(), by_name
            )
            userid[missing] = chosen.fillna(frame["d_userid"][missing])
        frame["userid"] = userid.fillna(0).astype("int64")
        frame["relateduserid"] = related.astype("Int64")

        named = self.files_identified_by_name(frame, acting_name)
        if named:
            in_named = frame["file"].isin(named)
            ids = self.ids_for_names(
                frame,
                set(acting_name[in_named].dropna()) | set(affected[in_named].dropna()),
                id_by_name,
            )
            id_by_name.update(ids)
            name_by_id.update({user: name for name, user in ids.items()})
            frame.loc[in_named, "userid"] = acting_name[in_named].map(ids).fillna(0).astype("int64")
            frame.loc[in_named, "relateduserid"] = affected[in_named].map(ids).astype("Int64")
        self.check_people_found(frame)

        realuser = real_name.map(id_by_name)
        for name in real_name[real_name.notna() & realuser.isna()].unique():
            # A real user seen only in "X as Y" rows gets an id of their own.
            synthetic = self.synthetic_user_id(frame)
            id_by_name[name] = synthetic
            name_by_id[synthetic] = name
        realuser = real_name.map(id_by_name)
        frame["realuserid"] = realuser.astype("Int64")
        return {int(k): v for k, v in name_by_id.items()}

    def files_identified_by_name(self, frame: pd.DataFrame, acting_name: pd.Series) -> list[str]:
        """Downloads whose Descriptions name no user ids (masked as 'x', or absent) in
        most rows that have a user's name: there, a person is their name."""
        named = acting_name.notna()
        no_ids = frame["d_userid"].isna() & frame["d_relateduserid"].isna()
        share = (no_ids & named).groupby(frame["file"]).sum() / named.groupby(frame["file"]).sum()
        files = sorted(share[share > 0.5].index)
        for file in files:
            rows = int((frame["file"] == file).sum())
            self.totals.warnings.append(
                f"{file}: the Description names no user id in {share[file]:.0%} of the rows "
                f"with a user (ids masked as 'x' or absent): people are told apart by "
                f"User full name and Affected user ({rows:,} rows); two people of the same "
                "name are one person"
            )
        return files

    def ids_for_names(self, frame, names: set[str], id_by_name: dict) -> dict[str, int]:
        """A user id for each name: the id other downloads give it, else a new one."""
        ids = {}
        for name in sorted(names):
            known = id_by_name.get(name)
            ids[name] = int(known) if known is not None else self.synthetic_user_id(frame)
        return ids

    def check_people_found(self, frame: pd.DataFrame) -> None:
        """Stop when most rows of a download resolve to no user: built, such a download
        would be one person doing everything."""
        unknown = (frame["userid"] == 0).groupby(frame["file"]).agg(["sum", "size"])
        for file, (missing, size) in unknown.iterrows():
            if missing * 2 > size:
                raise ValueError(
                    f"{file}: {missing:,} of {size:,} rows name no user (ids in the "
                    "Description masked or absent, and User full name masked too): people "
                    "cannot be told apart, so nothing is built; download the log with user "
                    "names or ids shown"
                )

    def synthetic_user_id(self, frame: pd.DataFrame) -> int:
        """An id above every id the files name, for people known only by name."""
        if not self.next_synthetic_user:
            ids = pd.concat([frame["d_userid"], frame["d_relateduserid"]]).dropna()
            self.next_synthetic_user = int(ids.max()) + 1 if len(ids) else 1
        value = self.next_synthetic_user
        self.next_synthetic_user += 1
        return value

    def masked_user_ids(self, frame: pd.DataFrame) -> set[int]:
        """Ids seen in downloads whose names are all masked: users without names."""
        masked_files = frame.groupby("file")["user"].agg(lambda s: s.isin(MASKED_NAMES).all())
        rows = frame[frame["file"].isin(masked_files[masked_files].index)]
        ids = set(rows["userid"]) | set(rows["relateduserid"].dropna().astype("int64"))
        return {int(i) for i in ids} - {0}

    def course_roles(
        self,
        frame: pd.DataFrame,
        courses: dict[int, dict],
        names: dict[int, str],
        existing: set[int],
    ) -> tuple[dict[int, set[int]], dict[int, set[int]], dict[int, str]]:
        log = pd.DataFrame(
            {
                "userid": frame["userid"],
                "relateduserid": frame["relateduserid"].astype("float64"),
                "realuserid": frame["realuserid"].astype("float64"),
                "courseid": frame["courseid"],
                "eventname": frame["eventname"],
                "edulevel": frame["e_edulevel"],
                "objectid": frame["d_objectid"],
            }
        )
        log = log[log["courseid"].isin(courses) | (log["courseid"] == 0)]
        roles = infer_roles(log, names, existing)
        learners = {c: roles.learners.get(c, set()) for c in courses}
        extra_names: dict[int, str] = {}
        if self.options.roster:
            learners = self.roster_learners(frame, courses, names, extra_names)
        return learners, {c: roles.teachers.get(c, set()) for c in courses}, extra_names

    def roster_learners(self, frame, courses, names, extra_names) -> dict[int, set[int]]:
        """Course -> roster learners: a roster row names its course or, without one,
        holds for the only course, else for the courses the user appears in."""
        entries = read_roster(self.options.roster)
        id_by_name = {}
        for user, name in names.items():
            id_by_name[name] = None if name in id_by_name else user  # None: ambiguous
        seen_in = frame.groupby("courseid")["userid"].agg(set).to_dict()
        learners: dict[int, set[int]] = {c: set() for c in courses}
        teaching = [c for c in courses if c != SITE_COURSE_ID]
        for entry in entries:
            user = entry.user_id
            if user is None and entry.full_name:
                user = id_by_name.get(entry.full_name)
                if user is None:
                    if entry.full_name in id_by_name:
                        self.totals.notes.append(
                            f"roster name {entry.full_name!r} fits several users; skipped"
                        )
                        continue
                    user = self.synthetic_user_id(frame)
                    id_by_name[entry.full_name] = user
                    extra_names[user] = entry.full_name
            elif entry.full_name and user not in names:
                extra_names[user] = entry.full_name
            if entry.course is not None:
                targets = [
                    c
                    for c, info in courses.items()
                    if entry.course in (str(c), info["shortname"], info["fullname"])
                ]
            elif len(teaching) == 1:
                targets = teaching
            else:
                targets = [c for c in teaching if user in seen_in.get(c, set())]
            for course in targets:
                learners[course].add(int(user))
        return learners
