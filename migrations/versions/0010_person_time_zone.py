"""A person's time zone (staff users and customers), and a language that may be unset.

``time_zone`` NULL: pages show times in the help desk's default zone. ``language`` NULL: the person has not
chosen one; pages follow the browser and mail goes out in the default language. Rows keep their language.

Revision ID: 0010_person_time_zone
Revises: 0008_web_more
Create Date: 2026-11-23 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010_person_time_zone"
down_revision: str | None = "0008_web_more"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("staff_user", "customer")


def upgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("time_zone", sa.String(length=64), nullable=True))
            batch_op.alter_column("language", existing_type=sa.String(length=10), nullable=True)


def downgrade() -> None:
    for table in TABLES:
        op.execute(sa.text(f"UPDATE {table} SET language = 'en' WHERE language IS NULL"))  # noqa: S608
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column("language", existing_type=sa.String(length=10), nullable=False)
            batch_op.drop_column("time_zone")
