"""The schema built by ``alembic upgrade head`` (see conftest) is exactly what the models describe."""

from __future__ import annotations

from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection

from helpdesk.core.db import create_engine
from helpdesk.models import Base

pytestmark = pytest.mark.integration


def _differences(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, Base.metadata))


async def test_migrations_and_models_describe_the_same_schema(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:
            differences = await connection.run_sync(_differences)
    finally:
        await engine.dispose()
    assert differences == [], "models and migrations disagree; regenerate the migration"


async def test_the_migrated_database_has_every_table_of_the_models(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:
            tables = await connection.run_sync(
                lambda sync: set(sync.dialect.get_table_names(sync)) - {"alembic_version"}
            )
    finally:
        await engine.dispose()
    assert tables == set(Base.metadata.tables)
