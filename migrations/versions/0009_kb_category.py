"""kb: categories as administrators arrange them (nested, ordered)

Revision ID: 0009_kb_category
Revises: 0005_kb
Create Date: 2026-11-23 04:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import helpdesk.core.db

revision: str = "0009_kb_category"
down_revision: str | None = "0005_kb"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "kb_category",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("parent_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("created_at", helpdesk.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", helpdesk.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["parent_id"],
            ["kb_category.id"],
            name=op.f("fk_kb_category_parent_id_kb_category"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kb_category")),
        sa.UniqueConstraint("name", name=op.f("uq_kb_category_name")),
    )
    with op.batch_alter_table("kb_category", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_kb_category_parent_id"), ["parent_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("kb_category", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_kb_category_parent_id"))
    op.drop_table("kb_category")
