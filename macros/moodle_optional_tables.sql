{#- Moodle tables a site may lack: an activity plugin can be uninstalled (feedback,
    quiz, forum, assign, ...), course completion, the calendar or grade
    categories may be unused, and an export may leave out the groups. Only the
    log, users, courses, contexts, roles, role assignments and enrolments are
    required. A missing optional table gives a
    warning (check_moodle_source) and its staging model reads an empty table of
    the same columns instead (the source() override below), on every engine.
    Columns and Moodle's types, as python_scripts/moodle_analytics/moodle_db
    holds them (a test keeps the two equal). -#}
{% macro moodle_optional_tables() -%}
    {{ return({
        'course_categories': [
            'id bigint', 'name varchar(255)', 'idnumber varchar(100)', 'description text',
            'descriptionformat smallint', 'parent bigint', 'sortorder bigint', 'coursecount bigint',
            'visible smallint', 'visibleold smallint', 'timemodified bigint', 'depth bigint',
            'path varchar(255)', 'theme varchar(50)',
        ],
        'course_sections': [
            'id bigint', 'course bigint', 'section bigint', 'name varchar(1333)', 'summary text',
            'summaryformat smallint', 'sequence text', 'visible smallint', 'availability text',
            'component varchar(100)', 'itemid bigint', 'timemodified bigint',
        ],
        'modules': [
            'id bigint', 'name varchar(20)', 'cron bigint', 'lastcron bigint', 'search varchar(255)',
            'visible smallint',
        ],
        'course_modules': [
            'id bigint', 'course bigint', 'module bigint', 'instance bigint', 'section bigint',
            'idnumber varchar(100)', 'added bigint', 'score smallint', 'indent integer', 'visible smallint',
            'visibleoncoursepage smallint', 'visibleold smallint', 'groupmode smallint', 'groupingid bigint',
            'completion smallint', 'completiongradeitemnumber bigint', 'completionview smallint',
            'completionexpected bigint', 'completionpassgrade smallint', 'showdescription smallint',
            'availability text', 'deletioninprogress smallint', 'downloadcontent smallint',
            'lang varchar(30)', 'enableaitools smallint', 'enabledaiactions text',
        ],
        'grade_categories': [
            'id bigint', 'courseid bigint', 'parent bigint', 'depth bigint', 'path varchar(255)',
            'fullname varchar(255)', 'aggregation bigint', 'keephigh bigint', 'droplow bigint',
            'aggregateonlygraded smallint', 'aggregateoutcomes smallint', 'timecreated bigint',
            'timemodified bigint', 'hidden bigint',
        ],
        'grade_items': [
            'id bigint', 'courseid bigint', 'categoryid bigint', 'itemname varchar(1333)',
            'itemtype varchar(30)', 'itemmodule varchar(30)', 'iteminstance bigint', 'itemnumber bigint',
            'iteminfo text', 'idnumber varchar(255)', 'calculation text', 'gradetype smallint',
            'grademax numeric(10,5)', 'grademin numeric(10,5)', 'scaleid bigint', 'outcomeid bigint',
            'gradepass numeric(10,5)', 'multfactor numeric(10,5)', 'plusfactor numeric(10,5)',
            'aggregationcoef numeric(10,5)', 'aggregationcoef2 numeric(10,5)', 'sortorder bigint',
            'display bigint', 'decimals smallint', 'hidden bigint', 'locked bigint', 'locktime bigint',
            'needsupdate bigint', 'weightoverride smallint', 'timecreated bigint', 'timemodified bigint',
        ],
        'grade_grades': [
            'id bigint', 'itemid bigint', 'userid bigint', 'rawgrade numeric(10,5)',
            'rawgrademax numeric(10,5)', 'rawgrademin numeric(10,5)', 'rawscaleid bigint',
            'usermodified bigint', 'finalgrade numeric(10,5)', 'hidden bigint', 'locked bigint',
            'locktime bigint', 'exported bigint', 'overridden bigint', 'excluded bigint', 'feedback text',
            'feedbackformat bigint', 'information text', 'informationformat bigint', 'timecreated bigint',
            'timemodified bigint', 'aggregationstatus varchar(10)', 'aggregationweight numeric(10,5)',
            'deductedmark numeric(10,5)',
        ],
        'quiz': [
            'id bigint', 'course bigint', 'name varchar(1333)', 'intro text', 'introformat smallint',
            'timeopen bigint', 'timeclose bigint', 'timelimit bigint', 'overduehandling varchar(16)',
            'graceperiod bigint', 'preferredbehaviour varchar(32)', 'canredoquestions smallint',
            'attempts integer', 'attemptonlast smallint', 'grademethod smallint', 'decimalpoints smallint',
            'questiondecimalpoints smallint', 'reviewattempt integer', 'reviewcorrectness integer',
            'reviewmaxmarks integer', 'reviewmarks integer', 'reviewspecificfeedback integer',
            'reviewgeneralfeedback integer', 'reviewrightanswer integer', 'reviewoverallfeedback integer',
            'questionsperpage bigint', 'navmethod varchar(16)', 'shuffleanswers smallint',
            'sumgrades numeric(10,5)', 'grade numeric(10,5)', 'timecreated bigint', 'timemodified bigint',
            'password varchar(255)', 'subnet varchar(255)', 'browsersecurity varchar(32)', 'delay1 bigint',
            'delay2 bigint', 'showuserpicture smallint', 'showblocks smallint',
            'completionattemptsexhausted smallint', 'completionminattempts bigint',
            'allowofflineattempts smallint', 'precreateattempts smallint',
        ],
        'quiz_attempts': [
            'id bigint', 'quiz bigint', 'userid bigint', 'attempt integer', 'uniqueid bigint', 'layout text',
            'currentpage bigint', 'preview smallint', 'state varchar(16)', 'timestart bigint',
            'timefinish bigint', 'timemodified bigint', 'timemodifiedoffline bigint', 'timecheckstate bigint',
            'sumgrades numeric(10,5)', 'gradednotificationsenttime bigint',
        ],
        'quiz_grades': [
            'id bigint', 'quiz bigint', 'userid bigint', 'grade numeric(10,5)', 'timemodified bigint',
        ],
        'assign': [
            'id bigint', 'course bigint', 'name varchar(1333)', 'intro text', 'introformat smallint',
            'alwaysshowdescription smallint', 'nosubmissions smallint', 'submissiondrafts smallint',
            'sendnotifications smallint', 'sendlatenotifications smallint', 'duedate bigint',
            'allowsubmissionsfromdate bigint', 'grade bigint', 'timemodified bigint',
            'requiresubmissionstatement smallint', 'completionsubmit smallint', 'cutoffdate bigint',
            'gradingduedate bigint', 'teamsubmission smallint', 'requireallteammemberssubmit smallint',
            'teamsubmissiongroupingid bigint', 'blindmarking smallint', 'hidegrader smallint',
            'revealidentities smallint', 'attemptreopenmethod varchar(10)', 'maxattempts integer',
            'markingworkflow smallint', 'markingallocation smallint', 'markinganonymous smallint',
            'sendstudentnotifications smallint', 'preventsubmissionnotingroup smallint', 'activity text',
            'activityformat smallint', 'timelimit bigint', 'submissionattachments smallint',
            'gradepenalty smallint',
        ],
        'assign_submission': [
            'id bigint', 'assignment bigint', 'userid bigint', 'timecreated bigint', 'timemodified bigint',
            'timestarted bigint', 'status varchar(10)', 'groupid bigint', 'attemptnumber bigint',
            'latest smallint',
        ],
        'assign_grades': [
            'id bigint', 'assignment bigint', 'userid bigint', 'timecreated bigint', 'timemodified bigint',
            'grader bigint', 'grade numeric(10,5)', 'penalty numeric(10,5)', 'attemptnumber bigint',
        ],
        'forum': [
            'id bigint', 'course bigint', 'type varchar(20)', 'name varchar(1333)', 'intro text',
            'introformat smallint', 'duedate bigint', 'cutoffdate bigint', 'assessed bigint',
            'assesstimestart bigint', 'assesstimefinish bigint', 'scale bigint', 'grade_forum bigint',
            'grade_forum_notify smallint', 'maxbytes bigint', 'maxattachments bigint',
            'forcesubscribe smallint', 'trackingtype smallint', 'rsstype smallint', 'rssarticles smallint',
            'timemodified bigint', 'warnafter bigint', 'blockafter bigint', 'blockperiod bigint',
            'completiondiscussions integer', 'completionreplies integer', 'completionposts integer',
            'displaywordcount smallint', 'lockdiscussionafter bigint',
        ],
        'forum_discussions': [
            'id bigint', 'course bigint', 'forum bigint', 'name varchar(255)', 'firstpost bigint',
            'userid bigint', 'groupid bigint', 'assessed smallint', 'timemodified bigint',
            'usermodified bigint', 'timestart bigint', 'timeend bigint', 'pinned smallint',
            'timelocked bigint',
        ],
        'forum_posts': [
            'id bigint', 'discussion bigint', 'parent bigint', 'userid bigint', 'created bigint',
            'modified bigint', 'mailed smallint', 'subject varchar(255)', 'message text',
            'messageformat smallint', 'messagetrust smallint', 'attachment varchar(100)',
            'totalscore smallint', 'mailnow bigint', 'deleted smallint', 'privatereplyto bigint',
            'wordcount bigint', 'charcount bigint',
        ],
        'course_completions': [
            'id bigint', 'userid bigint', 'course bigint', 'timeenrolled bigint', 'timestarted bigint',
            'timecompleted bigint', 'reaggregate bigint',
        ],
        'course_completion_criteria': [
            'id bigint', 'course bigint', 'criteriatype bigint', 'module varchar(100)',
            'moduleinstance bigint', 'courseinstance bigint', 'enrolperiod bigint', 'timeend bigint',
            'gradepass numeric(10,5)', 'role bigint',
        ],
        'course_modules_completion': [
            'id bigint', 'coursemoduleid bigint', 'userid bigint', 'completionstate smallint',
            'overrideby bigint', 'timemodified bigint',
        ],
        'event': [
            'id bigint', 'name text', 'description text', 'format smallint', 'categoryid bigint',
            'courseid bigint', 'groupid bigint', 'userid bigint', 'repeatid bigint', 'component varchar(100)',
            'modulename varchar(20)', 'instance bigint', 'type smallint', 'eventtype varchar(20)',
            'timestart bigint', 'timeduration bigint', 'timesort bigint', 'visible smallint',
            'uuid varchar(255)', 'sequence bigint', 'timemodified bigint', 'subscriptionid bigint',
            'priority bigint', 'location text',
        ],
        'page': [
            'id bigint', 'course bigint', 'name varchar(1333)', 'intro text', 'introformat smallint',
            'content text', 'contentformat smallint', 'legacyfiles smallint', 'legacyfileslast bigint',
            'display smallint', 'displayoptions text', 'revision bigint', 'timemodified bigint',
        ],
        'resource': [
            'id bigint', 'course bigint', 'name varchar(1333)', 'intro text', 'introformat smallint',
            'tobemigrated smallint', 'legacyfiles smallint', 'legacyfileslast bigint', 'display smallint',
            'displayoptions text', 'filterfiles smallint', 'revision bigint', 'timemodified bigint',
        ],
        'url': [
            'id bigint', 'course bigint', 'name varchar(1333)', 'intro text', 'introformat smallint',
            'externalurl text', 'display smallint', 'displayoptions text', 'parameters text',
            'timemodified bigint',
        ],
        'feedback': [
            'id bigint', 'course bigint', 'name varchar(1333)', 'intro text', 'introformat smallint',
            'anonymous smallint', 'email_notification smallint', 'multiple_submit smallint',
            'autonumbering smallint', 'site_after_submit varchar(255)', 'page_after_submit text',
            'page_after_submitformat smallint', 'publish_stats smallint', 'timeopen bigint',
            'timeclose bigint', 'timemodified bigint', 'completionsubmit smallint',
        ],
        'groups': [
            'id bigint', 'courseid bigint', 'idnumber varchar(100)', 'name varchar(254)', 'description text',
            'descriptionformat smallint', 'enrolmentkey varchar(50)', 'picture bigint', 'visibility smallint',
            'participation smallint', 'timecreated bigint', 'timemodified bigint',
        ],
        'groups_members': [
            'id bigint', 'groupid bigint', 'userid bigint', 'timeadded bigint', 'component varchar(100)',
            'itemid bigint',
        ],
    }) }}
{%- endmacro %}

{#- dbt's source(), except that a Moodle table in moodle_optional_tables() that
    is not where the sources point reads as an empty table of its columns. -#}
{% macro source(source_name, table_name) -%}
    {%- set relation = builtins.source(source_name, table_name) -%}
    {%- if execute and source_name == 'moodle' and table_name in moodle_optional_tables()
        and adapter.get_relation(
            database=relation.database, schema=relation.schema, identifier=relation.identifier
        ) is none -%}
        {{ return(moodle_empty_table(table_name, relation.identifier)) }}
    {%- endif -%}
    {{ return(relation) }}
{%- endmacro %}

{#- An optional Moodle table's columns with no rows, as a subquery named like it. -#}
{% macro moodle_empty_table(table_name, identifier) -%}
    {%- set columns = [] -%}
    {%- for column in moodle_optional_tables()[table_name] -%}
        {%- set name, moodle_type = column.split(' ', 1) -%}
        {%- do columns.append(
            'cast(null as ' ~ moodle_column_type(moodle_type) ~ ') as ' ~ adapter.quote(name)
        ) -%}
    {%- endfor -%}
    {{ return('(select ' ~ columns | join(', ') ~ ' where 1 = 0) as ' ~ adapter.quote(identifier)) }}
{%- endmacro %}

{#- A Moodle column type (as PostgreSQL spells it) in the engine's SQL: Spark has
    string and decimal where the others take varchar, text and numeric. -#}
{% macro moodle_column_type(moodle_type) -%}
    {%- if target.type == 'spark' and (moodle_type == 'text' or moodle_type.startswith('varchar')) -%}
        {{ return('string') }}
    {%- elif target.type == 'spark' -%}
        {{ return(moodle_type | replace('numeric', 'decimal')) }}
    {%- endif -%}
    {{ return(moodle_type) }}
{%- endmacro %}
