"""Moodle's PostgreSQL keys, indexes and id sequences for the tables in MOODLE_TABLES.

Moodle 5.1 on PostgreSQL gives every table a bigint ``id`` filled from a sequence
``<prefix><table>_id_seq`` and a primary key, and creates the indexes its install.xml
files declare. Names below omit the table prefix (``mdl_``), as Moodle adds it; no
foreign keys exist in the database, Moodle only declares them in XMLDB.
"""

from __future__ import annotations

from typing import NamedTuple

from moodle_analytics.moodle_tables import MOODLE_TABLES


class MoodleIndex(NamedTuple):
    name: str
    columns: tuple[str, ...]
    unique: bool
    # Moodle adds a varchar_pattern_ops twin for columns it searches with LIKE 'x%'.
    opclass: str | None = None


class MoodleKeys(NamedTuple):
    primary_key: str
    indexes: list[MoodleIndex]


MOODLE_KEYS: dict[str, MoodleKeys] = {
    "user": MoodleKeys(
        "user_id_pk",
        [
            MoodleIndex("user_alt_ix", ("alternatename",), False),
            MoodleIndex("user_aut_ix", ("auth",), False),
            MoodleIndex("user_cit_ix", ("city",), False),
            MoodleIndex("user_con_ix", ("confirmed",), False),
            MoodleIndex("user_cou_ix", ("country",), False),
            MoodleIndex("user_del_ix", ("deleted",), False),
            MoodleIndex("user_ema_ix", ("email",), False),
            MoodleIndex("user_fir2_ix", ("firstnamephonetic",), False),
            MoodleIndex("user_fir_ix", ("firstname",), False),
            MoodleIndex("user_idn_ix", ("idnumber",), False),
            MoodleIndex("user_las2_ix", ("lastaccess",), False),
            MoodleIndex("user_las3_ix", ("lastnamephonetic",), False),
            MoodleIndex("user_las_ix", ("lastname",), False),
            MoodleIndex("user_mid_ix", ("middlename",), False),
            MoodleIndex("user_mneuse_uix", ("mnethostid", "username"), True),
        ],
    ),
    "course": MoodleKeys(
        "cour_id_pk",
        [
            MoodleIndex("cour_cat_ix", ("category",), False),
            MoodleIndex("cour_idn_ix", ("idnumber",), False),
            MoodleIndex("cour_ori_ix", ("originalcourseid",), False),
            MoodleIndex("cour_sho_ix", ("shortname",), False),
            MoodleIndex("cour_sor_ix", ("sortorder",), False),
        ],
    ),
    "course_categories": MoodleKeys(
        "courcate_id_pk",
        [
            MoodleIndex("courcate_par_ix", ("parent",), False),
        ],
    ),
    "course_sections": MoodleKeys(
        "coursect_id_pk",
        [
            MoodleIndex("coursect_comite_ix", ("component", "itemid"), False),
            MoodleIndex("coursect_cousec_uix", ("course", "section"), True),
        ],
    ),
    "modules": MoodleKeys(
        "modu_id_pk",
        [
            MoodleIndex("modu_nam_ix", ("name",), False),
        ],
    ),
    "course_modules": MoodleKeys(
        "courmodu_id_pk",
        [
            MoodleIndex("courmodu_cou_ix", ("course",), False),
            MoodleIndex("courmodu_gro_ix", ("groupingid",), False),
            MoodleIndex("courmodu_idncou_ix", ("idnumber", "course"), False),
            MoodleIndex("courmodu_ins_ix", ("instance",), False),
            MoodleIndex("courmodu_mod_ix", ("module",), False),
            MoodleIndex("courmodu_vis_ix", ("visible",), False),
        ],
    ),
    "context": MoodleKeys(
        "cont_id_pk",
        [
            MoodleIndex("cont_conins_uix", ("contextlevel", "instanceid"), True),
            MoodleIndex("cont_ins_ix", ("instanceid",), False),
            MoodleIndex("cont_pat_ix", ("path",), False),
            MoodleIndex("cont_pat_ix_pattern", ("path",), False, "varchar_pattern_ops"),
        ],
    ),
    "role": MoodleKeys(
        "role_id_pk",
        [
            MoodleIndex("role_sho_uix", ("shortname",), True),
            MoodleIndex("role_sor_uix", ("sortorder",), True),
        ],
    ),
    "role_assignments": MoodleKeys(
        "roleassi_id_pk",
        [
            MoodleIndex("roleassi_comiteuse_ix", ("component", "itemid", "userid"), False),
            MoodleIndex("roleassi_con_ix", ("contextid",), False),
            MoodleIndex("roleassi_rol_ix", ("roleid",), False),
            MoodleIndex("roleassi_rolcon_ix", ("roleid", "contextid"), False),
            MoodleIndex("roleassi_sor_ix", ("sortorder",), False),
            MoodleIndex("roleassi_use_ix", ("userid",), False),
            MoodleIndex("roleassi_useconrol_ix", ("userid", "contextid", "roleid"), False),
        ],
    ),
    "enrol": MoodleKeys(
        "enro_id_pk",
        [
            MoodleIndex("enro_cou_ix", ("courseid",), False),
            MoodleIndex("enro_enr_ix", ("enrol",), False),
            MoodleIndex("enro_rol_ix", ("roleid",), False),
        ],
    ),
    "user_enrolments": MoodleKeys(
        "userenro_id_pk",
        [
            MoodleIndex("userenro_enr_ix", ("enrolid",), False),
            MoodleIndex("userenro_enruse_uix", ("enrolid", "userid"), True),
            MoodleIndex("userenro_mod_ix", ("modifierid",), False),
            MoodleIndex("userenro_use_ix", ("userid",), False),
        ],
    ),
    "logstore_standard_log": MoodleKeys(
        "logsstanlog_id_pk",
        [
            MoodleIndex("logsstanlog_con_ix", ("contextid",), False),
            MoodleIndex("logsstanlog_cou_ix", ("courseid",), False),
            MoodleIndex(
                "logsstanlog_couanotim_ix", ("courseid", "anonymous", "timecreated"), False
            ),
            MoodleIndex("logsstanlog_rea_ix", ("realuserid",), False),
            MoodleIndex("logsstanlog_rel_ix", ("relateduserid",), False),
            MoodleIndex("logsstanlog_tim_ix", ("timecreated",), False),
            MoodleIndex("logsstanlog_use_ix", ("userid",), False),
            MoodleIndex(
                "logsstanlog_useconconcr_ix",
                ("userid", "contextlevel", "contextinstanceid", "crud", "edulevel", "timecreated"),
                False,
            ),
        ],
    ),
    "grade_categories": MoodleKeys(
        "gradcate_id_pk",
        [
            MoodleIndex("gradcate_cou_ix", ("courseid",), False),
            MoodleIndex("gradcate_par_ix", ("parent",), False),
        ],
    ),
    "grade_items": MoodleKeys(
        "graditem_id_pk",
        [
            MoodleIndex("graditem_cat_ix", ("categoryid",), False),
            MoodleIndex("graditem_cou_ix", ("courseid",), False),
            MoodleIndex("graditem_gra_ix", ("gradetype",), False),
            MoodleIndex("graditem_idncou_ix", ("idnumber", "courseid"), False),
            MoodleIndex(
                "graditem_iteiteitecou_ix",
                ("itemtype", "itemmodule", "iteminstance", "courseid"),
                False,
            ),
            MoodleIndex("graditem_itenee_ix", ("itemtype", "needsupdate"), False),
            MoodleIndex("graditem_locloc_ix", ("locked", "locktime"), False),
            MoodleIndex("graditem_out_ix", ("outcomeid",), False),
            MoodleIndex("graditem_sca_ix", ("scaleid",), False),
        ],
    ),
    "grade_grades": MoodleKeys(
        "gradgrad_id_pk",
        [
            MoodleIndex("gradgrad_ite_ix", ("itemid",), False),
            MoodleIndex("gradgrad_locloc_ix", ("locked", "locktime"), False),
            MoodleIndex("gradgrad_raw_ix", ("rawscaleid",), False),
            MoodleIndex("gradgrad_use2_ix", ("usermodified",), False),
            MoodleIndex("gradgrad_use_ix", ("userid",), False),
            MoodleIndex("gradgrad_useite_uix", ("userid", "itemid"), True),
        ],
    ),
    "quiz": MoodleKeys(
        "quiz_id_pk",
        [
            MoodleIndex("quiz_cou_ix", ("course",), False),
        ],
    ),
    "quiz_attempts": MoodleKeys(
        "quizatte_id_pk",
        [
            MoodleIndex("quizatte_qui_ix", ("quiz",), False),
            MoodleIndex("quizatte_quiuseatt_uix", ("quiz", "userid", "attempt"), True),
            MoodleIndex("quizatte_statim_ix", ("state", "timecheckstate"), False),
            MoodleIndex("quizatte_uni_uix", ("uniqueid",), True),
            MoodleIndex("quizatte_use_ix", ("userid",), False),
        ],
    ),
    "quiz_grades": MoodleKeys(
        "quizgrad_id_pk",
        [
            MoodleIndex("quizgrad_qui_ix", ("quiz",), False),
            MoodleIndex("quizgrad_use_ix", ("userid",), False),
        ],
    ),
    "assign": MoodleKeys(
        "assi_id_pk",
        [
            MoodleIndex("assi_cou_ix", ("course",), False),
            MoodleIndex("assi_gra_ix", ("gradepenalty",), False),
            MoodleIndex("assi_tea_ix", ("teamsubmissiongroupingid",), False),
        ],
    ),
    "assign_submission": MoodleKeys(
        "assisubm_id_pk",
        [
            MoodleIndex("assisubm_ass_ix", ("assignment",), False),
            MoodleIndex(
                "assisubm_assusegroatt_uix",
                ("assignment", "userid", "groupid", "attemptnumber"),
                True,
            ),
            MoodleIndex(
                "assisubm_assusegrolat_ix", ("assignment", "userid", "groupid", "latest"), False
            ),
            MoodleIndex("assisubm_att_ix", ("attemptnumber",), False),
            MoodleIndex("assisubm_use_ix", ("userid",), False),
        ],
    ),
    "assign_grades": MoodleKeys(
        "assigrad_id_pk",
        [
            MoodleIndex("assigrad_ass_ix", ("assignment",), False),
            MoodleIndex("assigrad_assuseatt_uix", ("assignment", "userid", "attemptnumber"), True),
            MoodleIndex("assigrad_att_ix", ("attemptnumber",), False),
            MoodleIndex("assigrad_use_ix", ("userid",), False),
        ],
    ),
    "forum": MoodleKeys(
        "foru_id_pk",
        [
            MoodleIndex("foru_cou_ix", ("course",), False),
        ],
    ),
    "forum_discussions": MoodleKeys(
        "forudisc_id_pk",
        [
            MoodleIndex("forudisc_cou_ix", ("course",), False),
            MoodleIndex("forudisc_for_ix", ("forum",), False),
            MoodleIndex("forudisc_use2_ix", ("usermodified",), False),
            MoodleIndex("forudisc_use_ix", ("userid",), False),
        ],
    ),
    "forum_posts": MoodleKeys(
        "forupost_id_pk",
        [
            MoodleIndex("forupost_cre_ix", ("created",), False),
            MoodleIndex("forupost_dis_ix", ("discussion",), False),
            MoodleIndex("forupost_mai_ix", ("mailed",), False),
            MoodleIndex("forupost_par_ix", ("parent",), False),
            MoodleIndex("forupost_pri_ix", ("privatereplyto",), False),
            MoodleIndex("forupost_use_ix", ("userid",), False),
        ],
    ),
    "course_completions": MoodleKeys(
        "courcomp_id_pk",
        [
            MoodleIndex("courcomp_cou_ix", ("course",), False),
            MoodleIndex("courcomp_tim_ix", ("timecompleted",), False),
            MoodleIndex("courcomp_use_ix", ("userid",), False),
            MoodleIndex("courcomp_usecou_uix", ("userid", "course"), True),
        ],
    ),
    "course_completion_criteria": MoodleKeys(
        "courcompcrit_id_pk",
        [
            MoodleIndex("courcompcrit_cou_ix", ("course",), False),
        ],
    ),
    "course_modules_completion": MoodleKeys(
        "courmoducomp_id_pk",
        [
            MoodleIndex("courmoducomp_cou_ix", ("coursemoduleid",), False),
            MoodleIndex("courmoducomp_usecou_uix", ("userid", "coursemoduleid"), True),
        ],
    ),
    "event": MoodleKeys(
        "even_id_pk",
        [
            MoodleIndex("even_cat_ix", ("categoryid",), False),
            MoodleIndex("even_comeveins_ix", ("component", "eventtype", "instance"), False),
            MoodleIndex("even_cou_ix", ("courseid",), False),
            MoodleIndex("even_eve_ix", ("eventtype",), False),
            MoodleIndex(
                "even_grocoucatvisuse_ix",
                ("groupid", "courseid", "categoryid", "visible", "userid"),
                False,
            ),
            MoodleIndex("even_modinseve_ix", ("modulename", "instance", "eventtype"), False),
            MoodleIndex("even_sub_ix", ("subscriptionid",), False),
            MoodleIndex("even_tim2_ix", ("timeduration",), False),
            MoodleIndex("even_tim_ix", ("timestart",), False),
            MoodleIndex("even_typtim_ix", ("type", "timesort"), False),
            MoodleIndex("even_use_ix", ("userid",), False),
            MoodleIndex("even_uui_ix", ("uuid",), False),
        ],
    ),
    "page": MoodleKeys(
        "page_id_pk",
        [
            MoodleIndex("page_cou_ix", ("course",), False),
        ],
    ),
    "resource": MoodleKeys(
        "reso_id_pk",
        [
            MoodleIndex("reso_cou_ix", ("course",), False),
        ],
    ),
    "url": MoodleKeys(
        "url_id_pk",
        [
            MoodleIndex("url_cou_ix", ("course",), False),
        ],
    ),
    "feedback": MoodleKeys(
        "feed_id_pk",
        [
            MoodleIndex("feed_cou_ix", ("course",), False),
        ],
    ),
}


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def qualified(schema: str, prefix: str, table: str) -> str:
    return f"{_quote(schema)}.{_quote(prefix + table)}"


def postgres_default(postgres_type: str, default: str) -> str:
    if postgres_type.startswith("varchar") or postgres_type == "text":
        return "'" + default.replace("'", "''") + "'"
    return default


def duckdb_type(postgres_type: str) -> str:
    """The DuckDB type that carries a Moodle column's values unchanged."""
    if postgres_type.startswith("varchar") or postgres_type == "text":
        return "VARCHAR"
    if postgres_type.startswith("numeric"):
        return postgres_type.replace("numeric", "DECIMAL")
    return {"bigint": "BIGINT", "integer": "INTEGER", "smallint": "SMALLINT"}[postgres_type]


def information_schema_type(postgres_type: str) -> str:
    """How information_schema (and format_type) spell a type written in MOODLE_TABLES."""
    if postgres_type.startswith("varchar"):
        return postgres_type.replace("varchar", "character varying")
    return postgres_type


def create_table_sql(table: str, prefix: str = "mdl_", schema: str = "public") -> str:
    """CREATE TABLE with Moodle's columns, types, defaults and NOT NULL; keys come later."""
    columns = []
    for name, postgres_type, not_null, default in MOODLE_TABLES[table]:
        column = f"{_quote(name)} {postgres_type}"
        if default is not None:
            column += f" DEFAULT {postgres_default(postgres_type, default)}"
        if not_null:
            column += " NOT NULL"
        columns.append(column)
    body = ",\n    ".join(columns)
    return f"CREATE TABLE {qualified(schema, prefix, table)} (\n    {body}\n)"


def sequence_name(table: str, prefix: str = "mdl_") -> str:
    return f"{prefix}{table}_id_seq"


def primary_key_sql(table: str, prefix: str = "mdl_", schema: str = "public") -> str:
    name = prefix + MOODLE_KEYS[table].primary_key
    return (
        f"ALTER TABLE ONLY {qualified(schema, prefix, table)} "
        f"ADD CONSTRAINT {_quote(name)} PRIMARY KEY (id)"
    )


def index_sql(table: str, index: MoodleIndex, prefix: str = "mdl_", schema: str = "public") -> str:
    columns = ", ".join(
        _quote(column) + (f" {index.opclass}" if index.opclass else "") for column in index.columns
    )
    unique = "UNIQUE " if index.unique else ""
    return (
        f"CREATE {unique}INDEX {_quote(prefix + index.name)} "
        f"ON {qualified(schema, prefix, table)} USING btree ({columns})"
    )


def sequence_sql(table: str, prefix: str = "mdl_", schema: str = "public") -> list[str]:
    """Moodle's id sequence, owned by the column and set past the largest id loaded."""
    target = qualified(schema, prefix, table)
    sequence = f"{_quote(schema)}.{_quote(sequence_name(table, prefix))}"
    regclass = sequence.replace("'", "''")
    return [
        f"CREATE SEQUENCE {sequence} START WITH 1 INCREMENT BY 1 NO MINVALUE NO MAXVALUE CACHE 1",
        f"ALTER SEQUENCE {sequence} OWNED BY {target}.id",
        f"ALTER TABLE ONLY {target} ALTER COLUMN id SET DEFAULT nextval('{regclass}'::regclass)",
        # Empty table: the next id is 1; otherwise max(id) + 1.
        f"SELECT setval('{regclass}', coalesce(max(id), 1), max(id) IS NOT NULL) FROM {target}",
    ]
