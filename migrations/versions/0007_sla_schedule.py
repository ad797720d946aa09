"""sla schedule: scheduled escalation steps, and a marker for the actions of a fired level

Revision ID: 0007_sla_schedule
Revises: 0002
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import helpdesk.core.db

revision: str = "0007_sla_schedule"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "sla_scheduled_step",
        sa.Column("ticket_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("target", sa.String(length=20), nullable=False),
        sa.Column("level", sa.String(length=20), nullable=False),
        sa.Column("clock_started_at", helpdesk.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("at", helpdesk.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("notify_at", helpdesk.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["ticket.id"],
            name=op.f("fk_sla_scheduled_step_ticket_id_ticket"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "ticket_id", "target", "level", "clock_started_at", name=op.f("pk_sla_scheduled_step")
        ),
    )
    with op.batch_alter_table("sla_scheduled_step", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sla_scheduled_step_notify_at"), ["notify_at"], unique=False)
    with op.batch_alter_table("sla_escalation", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("actions_done_at", helpdesk.core.db.UTCDateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("sla_escalation", schema=None) as batch_op:
        batch_op.drop_column("actions_done_at")
    with op.batch_alter_table("sla_scheduled_step", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sla_scheduled_step_notify_at"))
    op.drop_table("sla_scheduled_step")
