"""web pages on a million tickets: trigram index for the queue's text search (PostgreSQL), the queue's whole
order (sla_due_at, priority, id) instead of sla_due_at alone, the ticket's creation time for the dashboard's
newest tickets, and SLA clocks by when they were met or breached

Revision ID: 0011_page_indexes
Revises: 0007_sla_schedule
Create Date: 2026-11-23 05:00:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0011_page_indexes"
down_revision: str | None = "0007_sla_schedule"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        # pg_trgm is a trusted extension (PostgreSQL 13+): the database owner may create it.
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    # A GIN trigram index on PostgreSQL; SQLite ignores the postgresql_ options and builds a plain one.
    op.create_index(
        "ix_ticket_subject_trgm",
        "ticket",
        ["subject"],
        unique=False,
        postgresql_using="gin",
        postgresql_ops={"subject": "gin_trgm_ops"},
    )
    op.create_index("ix_ticket_sla_due_order", "ticket", ["sla_due_at", "priority", "id"], unique=False)
    op.drop_index("ix_ticket_sla_due_at", table_name="ticket")
    op.create_index("ix_ticket_created_at", "ticket", ["created_at"], unique=False)
    op.create_index("ix_ticket_sla_target_met_at", "ticket_sla_target", ["met_at"], unique=False)
    op.create_index("ix_ticket_sla_target_breached_at", "ticket_sla_target", ["breached_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_ticket_sla_target_breached_at", table_name="ticket_sla_target")
    op.drop_index("ix_ticket_sla_target_met_at", table_name="ticket_sla_target")
    op.drop_index("ix_ticket_created_at", table_name="ticket")
    op.create_index("ix_ticket_sla_due_at", "ticket", ["sla_due_at"], unique=False)
    op.drop_index("ix_ticket_sla_due_order", table_name="ticket")
    op.drop_index("ix_ticket_subject_trgm", table_name="ticket")
