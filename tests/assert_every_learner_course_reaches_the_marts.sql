-- One fct_learner_courses row per learner of a course, no more, no less.
select course_learners.learner_course_id
from {{ ref('int_course_learners') }} as course_learners
full outer join {{ ref('fct_learner_courses') }} as learner_courses
    on course_learners.learner_course_id = learner_courses.learner_course_id
where course_learners.learner_course_id is null or learner_courses.learner_course_id is null
