"""What PostgreSQL adds to Moodle's tables: primary keys, btree indexes, id sequences.

Moodle 5.1 on PostgreSQL gives every table a bigint ``id`` filled from a sequence
``<prefix><table>_id_seq`` and a primary key, and creates the indexes its
install.xml files declare (MOODLE_KEYS), some with a varchar_pattern_ops twin.
The tables themselves come from moodle_db.ddl.create_table_sql (dialect POSTGRES).
"""

from __future__ import annotations

from moodle_analytics.moodle_db.ddl import POSTGRES
from moodle_analytics.moodle_db.tables import MOODLE_KEYS, MOODLE_TABLES, MoodleIndex

quote = POSTGRES.quote
qualified = POSTGRES.qualified


def moodle_tables_in(cursor, schema: str, prefix: str) -> list[str]:
    """The tables of MOODLE_TABLES (without prefix) that ``schema`` holds as <prefix><table>."""
    cursor.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = %s", (schema,)
    )
    names = {row[0] for row in cursor.fetchall()}
    return [table for table in MOODLE_TABLES if prefix + table in names]


def information_schema_type(moodle_type: str) -> str:
    """How information_schema (and format_type) spell a type written in MOODLE_TABLES."""
    if moodle_type.startswith("varchar"):
        return moodle_type.replace("varchar", "character varying")
    return moodle_type


def sequence_name(table: str, prefix: str = "mdl_") -> str:
    return f"{prefix}{table}_id_seq"


def primary_key_sql(table: str, prefix: str = "mdl_", schema: str = "public") -> str:
    name = prefix + MOODLE_KEYS[table].primary_key
    return (
        f"ALTER TABLE ONLY {qualified(schema, prefix, table)} "
        f"ADD CONSTRAINT {quote(name)} PRIMARY KEY (id)"
    )


def index_sql(table: str, index: MoodleIndex, prefix: str = "mdl_", schema: str = "public") -> str:
    columns = ", ".join(
        quote(column) + (f" {index.opclass}" if index.opclass else "") for column in index.columns
    )
    unique = "UNIQUE " if index.unique else ""
    return (
        f"CREATE {unique}INDEX {quote(prefix + index.name)} "
        f"ON {qualified(schema, prefix, table)} USING btree ({columns})"
    )


def sequence_sql(table: str, prefix: str = "mdl_", schema: str = "public") -> list[str]:
    """Moodle's id sequence, owned by the column and set past the largest id loaded."""
    target = qualified(schema, prefix, table)
    sequence = f"{quote(schema)}.{quote(sequence_name(table, prefix))}"
    regclass = sequence.replace("'", "''")
    return [
        f"CREATE SEQUENCE {sequence} START WITH 1 INCREMENT BY 1 NO MINVALUE NO MAXVALUE CACHE 1",
        f"ALTER SEQUENCE {sequence} OWNED BY {target}.id",
        f"ALTER TABLE ONLY {target} ALTER COLUMN id SET DEFAULT nextval('{regclass}'::regclass)",
        # Empty table: the next id is 1; otherwise max(id) + 1.
        f"SELECT setval('{regclass}', coalesce(max(id), 1), max(id) IS NOT NULL) FROM {target}",
    ]
