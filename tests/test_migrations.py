"""The schema built by ``alembic upgrade heads`` (see conftest) is exactly what the models describe, has the
triggers the migrations create (``compare_metadata`` sees no triggers, partial-index conditions or covering
columns), and comes back the same when any branch's newest migration is undone and applied again."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, text
from sqlalchemy.engine import make_url
from testing_support import on_database, scratch_database

from helpdesk.core.migrate import alembic_config, upgrade
from helpdesk.models import Base

pytestmark = pytest.mark.integration

# The report counters of 0013_report_counts, by (table, trigger). PostgreSQL: statement triggers for the
# backlog, row triggers for clocks and ratings; SQLite has no statement triggers, so one per event.
EXPECTED_TRIGGERS = {
    "postgresql": {
        ("ticket", "report_backlog_insert"),
        ("ticket", "report_backlog_update"),
        ("ticket", "report_backlog_delete"),
        ("ticket", "report_counts_ticket_delete"),
        ("ticket", "report_counts_ticket_update"),
        ("ticket_sla_target", "report_finish_clock"),
        ("satisfaction_rating", "report_rating"),
    },
    "sqlite": {
        ("ticket", "report_backlog_insert"),
        ("ticket", "report_backlog_update"),
        ("ticket", "report_backlog_delete"),
        ("ticket", "report_counts_ticket_delete"),
        ("ticket", "report_counts_ticket_update"),
        ("ticket_sla_target", "report_finish_clock_insert"),
        ("ticket_sla_target", "report_finish_clock_update"),
        ("ticket_sla_target", "report_finish_clock_delete"),
        ("satisfaction_rating", "report_rating_insert"),
        ("satisfaction_rating", "report_rating_update"),
        ("satisfaction_rating", "report_rating_delete"),
    },
}

# What a schema is made of beyond what compare_metadata sees, as rows that compare as text: definitions as the
# server prints them (indexes with their WHERE and INCLUDE, triggers, functions, constraints, enum labels).
PG_SCHEMA = {
    "columns": """SELECT table_name, column_name, data_type, is_nullable, column_default,
        character_maximum_length, numeric_precision FROM information_schema.columns
        WHERE table_schema = 'public'""",
    "indexes": "SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = 'public'",
    "constraints": """SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint
        WHERE connamespace = 'public'::regnamespace""",
    "triggers": """SELECT tgrelid::regclass::text, tgname, pg_get_triggerdef(oid) FROM pg_trigger
        WHERE NOT tgisinternal""",
    "functions": """SELECT proname, pg_get_functiondef(oid) FROM pg_proc
        WHERE pronamespace = 'public'::regnamespace""",
    "enums": "SELECT t.typname, e.enumlabel, e.enumsortorder FROM pg_enum e JOIN pg_type t ON t.oid = e.enumtypid",
}
# SQLite keeps each table's, index's and trigger's statement; a table rebuilt by a batch migration is written
# anew, so tables are compared by what PRAGMA reports (columns in order of name: a column added again comes last).
SQLITE_OBJECTS = (
    "SELECT type, name, tbl_name, sql FROM sqlite_master WHERE type IN ('index', 'trigger', 'view')"
)
SQLITE_TABLE = {
    "columns": 'SELECT name, type, "notnull", dflt_value, pk FROM pragma_table_info(:t)',
    "foreign_keys": 'SELECT "table", "from", "to", on_update, on_delete FROM pragma_foreign_key_list(:t)',
    "indexes": 'SELECT name, "unique", origin, partial FROM pragma_index_list(:t)',
}


def _differences(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, Base.metadata))


async def test_migrations_and_models_describe_the_same_schema(database_url: str) -> None:
    differences = await on_database(database_url, lambda c: c.run_sync(_differences))
    assert differences == [], "models and migrations disagree; regenerate the migration"


async def test_the_migrated_database_has_every_table_of_the_models(database_url: str) -> None:
    tables = await on_database(
        database_url,
        lambda c: c.run_sync(lambda sync: set(sync.dialect.get_table_names(sync)) - {"alembic_version"}),
    )
    assert tables == set(Base.metadata.tables)


async def _triggers(connection: Any) -> set[tuple[str, str]]:
    if connection.dialect.name == "postgresql":
        query = "SELECT tgrelid::regclass::text, tgname FROM pg_trigger WHERE NOT tgisinternal"
    else:
        query = "SELECT tbl_name, name FROM sqlite_master WHERE type = 'trigger'"
    return {(table, name) for table, name in await connection.execute(text(query))}


async def test_the_migrations_create_the_report_counters_triggers(database_url: str) -> None:
    dialect = make_url(database_url).get_dialect().name
    assert await on_database(database_url, _triggers) == EXPECTED_TRIGGERS[dialect]


async def _schema(connection: Any) -> dict[str, Any]:
    """The database's schema as sorted rows by kind, the applied revisions included."""
    if connection.dialect.name == "postgresql":
        queries = {kind: (query, {}) for kind, query in PG_SCHEMA.items()}
    else:
        tables = await connection.execute(
            text("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
        )
        queries = {"objects": (SQLITE_OBJECTS, {})}
        for (table,) in tables.all():
            queries |= {f"{table}.{kind}": (query, {"t": table}) for kind, query in SQLITE_TABLE.items()}
    queries["revisions"] = ("SELECT version_num FROM alembic_version", {})
    return {
        kind: sorted(tuple(str(v) for v in row) for row in await connection.execute(text(query), params))
        for kind, (query, params) in queries.items()
    }


def _schema_of(database_url: str) -> dict[str, Any]:
    # Synchronous, as the round trip is: alembic's env.py runs an event loop of its own.
    schema: dict[str, Any] = asyncio.run(on_database(database_url, _schema))
    return schema


@pytest.fixture(scope="module")
def scratch_database_url(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A database of this module's own on the test run's server, migrated to every head: the round trip drops
    tables that the other tests' database must keep."""
    with scratch_database(
        database_url, tmp_path_factory.mktemp("migrations"), "helpdesk_migrations"
    ) as scratch:
        upgrade(scratch)
        yield scratch


def _heads() -> list[str]:
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    return sorted(script.get_heads())


def test_every_branch_has_a_head_to_step_back_from() -> None:
    # Guards the round trip below against running over nothing (its parameters come from the same list).
    assert len(_heads()) >= 2


@pytest.mark.parametrize("head", _heads())
def test_undoing_a_branchs_newest_migration_and_applying_it_again_leaves_the_same_schema(
    scratch_database_url: str, head: str
) -> None:
    before = _schema_of(scratch_database_url)
    config = alembic_config(scratch_database_url)

    command.downgrade(config, f"{head}@-1")  # this branch one step back; the others stay at their heads
    undone = _schema_of(scratch_database_url)
    upgrade(scratch_database_url)

    assert head in [row[0] for row in before["revisions"]]
    assert head not in [row[0] for row in undone["revisions"]]
    assert undone != {**before, "revisions": undone["revisions"]}, f"undoing {head} changed nothing"
    after = _schema_of(scratch_database_url)
    changed = {kind: (before[kind], after.get(kind)) for kind in before if before[kind] != after.get(kind)}
    assert changed == {}, f"{head} undone and applied again leaves another schema"
