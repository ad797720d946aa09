"""A person's time zone (staff users and customers): pages show times in it; NULL means the default zone.

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


def upgrade() -> None:
    with op.batch_alter_table("staff_user", schema=None) as batch_op:
        batch_op.add_column(sa.Column("time_zone", sa.String(length=64), nullable=True))
    with op.batch_alter_table("customer", schema=None) as batch_op:
        batch_op.add_column(sa.Column("time_zone", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("customer", schema=None) as batch_op:
        batch_op.drop_column("time_zone")
    with op.batch_alter_table("staff_user", schema=None) as batch_op:
        batch_op.drop_column("time_zone")
