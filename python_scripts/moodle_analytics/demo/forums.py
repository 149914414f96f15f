"""Forums: weekly announcements, learners' questions, the teacher's answers and replies.

Discussions are kept per course (CourseState.discussions) until the course is
written, because a reply changes its discussion's last-modified columns;
posts are written as they happen. A reply always goes to a discussion that
exists by then.
"""

from __future__ import annotations

import numpy as np

from moodle_analytics.demo.config import DAY, WEEK
from moodle_analytics.demo.gradebook import CourseState
from moodle_analytics.demo.personas import persona_trait
from moodle_analytics.demo.site import Activity, _sigmoid
from moodle_analytics.demo.world import HOUR, VIEW_EVENT, Part

POST_MESSAGE = f"<p>{'lorem ' * 5}</p>"


def post_row(post_id, discussion_id, parent, user, t, subject="Re: discussion") -> tuple:
    """A forum_posts row in ACTIVITY_COLUMNS order."""
    words = 40 + post_id % 160
    return (
        post_id, discussion_id, parent, user, t, t, 1, subject, POST_MESSAGE, 1, 0, "", 0,
        0, 0, 0, words, words * 6,
    )  # fmt: skip


class Forums(Part):
    def play(self, state: CourseState, week: int, members, starts, level) -> None:
        """A course week's forum traffic from learners active that week."""
        rng, lc, course = self.rng, self.lc, state.course
        teacher = course.teacher_ids[0]
        engagement = lc["engagement"][members]
        # Quiet learners post less, busy ones more.
        level = level * persona_trait(lc, members, "session_rate")
        if not course.is_self_paced and week != course.break_week:
            posted = int(starts[0]) + 9 * HOUR + int(rng.integers(0, HOUR))
            self.new_discussions(
                state, state.news, np.array([teacher]), np.array([posted]),
                f"Week {week} announcements",
            )  # fmt: skip
        opens = np.flatnonzero(rng.random(len(members)) < _sigmoid(-2.6 + 0.9 * engagement) * level)
        opened_at = starts[opens] + rng.integers(HOUR, WEEK - 2 * HOUR, len(opens))
        self.new_discussions(
            state, state.general, lc["user_id"][members[opens]], opened_at,
            f"Question about week {week}",
        )  # fmt: skip
        # The teacher answers some questions; learners reply to recent discussions.
        answered = rng.random(len(opens)) < 0.35
        answer_at = opened_at[answered] + rng.integers(3 * HOUR, 2 * DAY, int(answered.sum()))
        replies = rng.poisson(_sigmoid(-1.2 + 1.0 * engagement) * level)
        reply_user = np.repeat(lc["user_id"][members], replies)
        reply_at = np.repeat(starts, replies) + rng.integers(
            2 * HOUR, WEEK - HOUR, int(replies.sum())
        )
        self.replies(
            state,
            np.r_[np.full(len(answer_at), teacher), reply_user],
            np.r_[answer_at, reply_at],
            np.r_[np.zeros(len(answer_at), bool), np.ones(len(reply_at), bool)],
        )

    def new_discussions(
        self, state: CourseState, forum: Activity, user: np.ndarray, t: np.ndarray, subject: str
    ) -> None:
        keep = t < self.as_of
        user, t = user[keep].astype(np.int64), t[keep].astype(np.int64)
        if not len(t):
            return
        log, course = self.log, state.course
        discussion_ids = self.ids.take("forum_discussions", len(t))
        post_ids = self.ids.take("forum_posts", len(t))
        for values in zip(discussion_ids, t, post_ids, user, strict=True):
            discussion_id, created, post_id, author = (int(v) for v in values)
            state.discussions.append(
                (discussion_id, forum.cm_id, forum.instance_id, created, post_id, author, subject)
            )
            self.out["forum_posts"].add(*post_row(post_id, discussion_id, 0, author, created))
        created = np.array([d[3] for d in state.discussions], dtype=np.int64)
        state.by_created = np.argsort(created, kind="stable")
        state.created_sorted = created[state.by_created]
        log.add(t - 120, user, VIEW_EVENT["forum"], course.id, forum.cm_id, forum.instance_id)
        log.add(
            t,
            user,
            "\\mod_forum\\event\\discussion_created",
            course.id,
            forum.cm_id,
            discussion_ids,
            other=log.encode_many(t, {"forumid": forum.instance_id}),
        )
        log.add(
            t,
            user,
            "\\mod_forum\\event\\assessable_uploaded",
            course.id,
            forum.cm_id,
            post_ids,
            other=log.encode_many(
                t, {"discussionid": discussion_ids, "triggeredfrom": "forum_add_discussion"}
            ),
        )

    def replies(self, state: CourseState, user, t, recent_only) -> None:
        """Replies to a discussion at least ten minutes old (recent_only: under two weeks)."""
        created = state.created_sorted
        upto = np.searchsorted(created, t - 600, side="left")
        since = np.where(recent_only, np.searchsorted(created, t - 2 * WEEK, side="right"), 0)
        ok = (upto > since) & (t < self.as_of)
        user, t, upto, since = user[ok], t[ok], upto[ok], since[ok]
        if not len(t):
            return
        pick = state.by_created[since + (self.rng.random(len(t)) * (upto - since)).astype(int)]
        chosen = [state.discussions[i] for i in pick]
        discussion = np.array([d[0] for d in chosen], dtype=np.int64)
        forum_cm = np.array([d[1] for d in chosen], dtype=np.int64)
        forum_id = np.array([d[2] for d in chosen], dtype=np.int64)
        post_ids = self.ids.take("forum_posts", len(t))
        posts = self.out["forum_posts"]
        for post_id, d, author, when in zip(post_ids, chosen, user, t, strict=True):
            posts.add(*post_row(int(post_id), d[0], d[4], int(author), int(when)))
            latest = state.last_post.get(d[0])
            if latest is None or when >= latest[0]:
                state.last_post[d[0]] = (int(when), int(author))
        log, course_id = self.log, state.course.id
        log.add(
            t - 240, user, "\\mod_forum\\event\\discussion_viewed", course_id, forum_cm, discussion
        )
        log.add(
            t,
            user,
            "\\mod_forum\\event\\post_created",
            course_id,
            forum_cm,
            post_ids,
            other=log.encode_many(
                t, {"discussionid": discussion, "forumid": forum_id, "forumtype": "general"}
            ),
        )
        log.add(
            t,
            user,
            "\\mod_forum\\event\\assessable_uploaded",
            course_id,
            forum_cm,
            post_ids,
            other=log.encode_many(
                t, {"discussionid": discussion, "triggeredfrom": "forum_add_discussion_post"}
            ),
        )
