"""Assignment submissions and quiz attempts as the log shows them.

A download holds no submission or attempt rows, but its events show them. The
import writes the Moodle rows the project reads for them, and only what the
log shows:

* mdl_assign_submission: one per learner and assignment where the learner
  submitted (an event the catalogue calls an assignment submit or resubmit:
  a submission submitted, a file uploaded, the submission statement
  accepted). Its status is 'submitted' when the log shows the submission
  handed in for grading (\\mod_assign\\event\\assessable_submitted or
  \\mod_assign\\event\\statement_accepted, which Moodle logs as the learner
  submits), else 'draft'; timecreated is the first such event and
  timemodified the last. No grade: the log does not hold it.
* mdl_quiz_attempts: one per attempt events name (the attempt id of the
  Description, even masked as 'x3'; one attempt per learner and quiz when no
  id is given), owned by the affected user, else the actor. It is 'finished'
  when the log shows it submitted, reviewed or graded (its end: the
  submission, else the last event of the attempt before its first review),
  'abandoned' or 'overdue' when the log says so, else 'inprogress'. Attempts of
  people who are not learners of the course are previews, as a teacher's are.
  No marks (sumgrades stays empty).

Ids: the Description's ids where it shows them, else new ones above them.
The log rows about a submission or an attempt then point at it (objectid).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from moodle_analytics.event_catalogue import EventType

HANDED_IN = {
    "\\mod_assign\\event\\assessable_submitted",
    "\\mod_assign\\event\\statement_accepted",
}
SUBMIT_ACTIONS = {"submit", "resubmit"}
ATTEMPT_FINISHED = {
    "\\mod_quiz\\event\\attempt_submitted",
    "\\mod_quiz\\event\\attempt_reviewed",
    "\\mod_quiz\\event\\attempt_graded",
}
ATTEMPT_SUBMITTED = "\\mod_quiz\\event\\attempt_submitted"
ATTEMPT_STATES = {
    "\\mod_quiz\\event\\attempt_abandoned": "abandoned",
    "\\mod_quiz\\event\\attempt_becameoverdue": "overdue",
}


def _row_ids(keys: pd.Series, given: pd.Series) -> dict:
    """key -> row id: the id the Description gives (digits) for it, else a new one."""
    real = pd.to_numeric(given.where(given.fillna("").str.fullmatch(r"\d+")), errors="coerce")
    by_key = pd.DataFrame({"key": keys, "id": real}).dropna().drop_duplicates("key")
    ids = dict(zip(by_key["key"], by_key["id"].astype("int64"), strict=True))
    next_id = max(ids.values(), default=0) + 1
    for key in sorted(set(keys) - set(ids)):
        ids[key] = next_id
        next_id += 1
    return ids


def submission_rows(
    frame: pd.DataFrame,
    catalogue: Mapping[str, EventType],
    instance_of: Mapping[int, tuple[str, int]],
) -> tuple[pd.DataFrame, pd.Series]:
    """mdl_assign_submission rows, and the objectid they give the log's rows."""
    submitting = {
        name
        for name, event in catalogue.items()
        if event.activity_type == "assign" and event.analytics_action in SUBMIT_ACTIONS
    }
    assignment = frame["cmid"].map(
        {cm: instance for cm, (module, instance) in instance_of.items() if module == "assign"}
    )
    rows = frame[frame["eventname"].isin(submitting) & assignment.notna() & (frame["userid"] > 0)]
    if rows.empty:
        return pd.DataFrame(), pd.Series(np.nan, index=frame.index)
    keys = pd.Series(list(zip(rows["userid"], rows["cmid"], strict=True)), index=rows.index)
    own_ids = rows["e_objecttable"] == "assign_submission"
    ids = _row_ids(keys, rows["d_objectkey"].where(own_ids))
    grouped = pd.DataFrame(
        {
            "key": keys,
            "epoch": rows["epoch"],
            "handed_in": rows["eventname"].isin(HANDED_IN),
            "assignment": assignment[rows.index],
        }
    ).groupby("key")
    table = pd.DataFrame(
        {
            "timecreated": grouped["epoch"].min(),
            "timemodified": grouped["epoch"].max(),
            "handed_in": grouped["handed_in"].any(),
            "assignment": grouped["assignment"].first(),
        }
    )
    table = pd.DataFrame(
        {
            "id": [ids[key] for key in table.index],
            "assignment": table["assignment"].astype("int64").to_numpy(),
            "userid": [int(user) for user, _ in table.index],
            "timecreated": table["timecreated"].astype("int64").to_numpy(),
            "timemodified": table["timemodified"].astype("int64").to_numpy(),
            "status": np.where(table["handed_in"], "submitted", "draft"),
            "attemptnumber": 0,
            "latest": 1,
        }
    ).sort_values("id", ignore_index=True)
    objectid = pd.Series(np.nan, index=frame.index)
    objectid[rows.index[own_ids.to_numpy()]] = keys[own_ids].map(ids).astype("float64")
    return table, objectid


def attempt_rows(
    frame: pd.DataFrame,
    instance_of: Mapping[int, tuple[str, int]],
    learners: Mapping[int, set[int]],
) -> tuple[pd.DataFrame, pd.Series]:
    """mdl_quiz_attempts rows, and the objectid they give the log's rows."""
    quiz = frame["cmid"].map(
        {cm: instance for cm, (module, instance) in instance_of.items() if module == "quiz"}
    )
    owner = frame["relateduserid"].astype("float64").fillna(frame["userid"].astype("float64"))
    wanted = (frame["e_objecttable"] == "quiz_attempts") & quiz.notna() & (owner > 0)
    rows = frame[wanted]
    if rows.empty:
        return pd.DataFrame(), pd.Series(np.nan, index=frame.index)
    attempt_key = rows["d_objectkey"].fillna("")
    keys = pd.Series(
        list(zip(owner[wanted].astype("int64"), rows["cmid"], attempt_key, strict=True)),
        index=rows.index,
    )
    ids = _row_ids(keys, attempt_key)
    events = pd.DataFrame(
        {
            "key": keys,
            "epoch": rows["epoch"],
            "eventname": rows["eventname"],
            "quiz": quiz[rows.index].astype("int64"),
            "course": rows["courseid"],
        }
    ).sort_values("epoch", kind="stable")
    attempts = [
        _attempt(key, group, ids[key], learners) for key, group in events.groupby("key", sort=False)
    ]
    table = pd.DataFrame(attempts).sort_values(["userid", "quiz", "timestart", "id"])
    table["attempt"] = table.groupby(["userid", "quiz"]).cumcount() + 1
    objectid = pd.Series(np.nan, index=frame.index)
    objectid[rows.index] = keys.map(ids).astype("float64")
    return table.sort_values("id", ignore_index=True), objectid


def _attempt(key: tuple, events: pd.DataFrame, attempt_id: int, learners) -> dict:
    user = int(key[0])
    names = events["eventname"]
    finished = names.isin(ATTEMPT_FINISHED)
    state, finish = "inprogress", 0
    if finished.any():
        state = "finished"
        submitted = events.loc[names == ATTEMPT_SUBMITTED, "epoch"]
        first_end = events.loc[finished, "epoch"].min()
        before = events.loc[~finished & (events["epoch"] <= first_end), "epoch"]
        finish = submitted.min() if len(submitted) else (before.max() if len(before) else first_end)
    else:
        flagged = names.map(ATTEMPT_STATES).dropna()
        state = flagged.iloc[-1] if len(flagged) else state
    course = int(events["course"].iloc[0])
    return {
        "id": attempt_id,
        "quiz": int(events["quiz"].iloc[0]),
        "userid": user,
        "uniqueid": attempt_id,
        "layout": "",
        "preview": int(user not in learners.get(course, set())),
        "state": state,
        "timestart": int(events["epoch"].min()),
        "timefinish": int(finish),
        "timemodified": int(events["epoch"].max()),
    }
