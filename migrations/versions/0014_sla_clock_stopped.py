"""SLA clocks of resolved and closed tickets are stopped: ticket_sla_target.stopped_at, filled for the tickets
resolved or closed already, and the live list's index of breached, never met clocks keeps only running ones

Revision ID: 0014_sla_clock_stopped
Revises: 0013_report_counts
Create Date: 2026-11-23 12:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import helpdesk.core.db

revision: str = "0014_sla_clock_stopped"
down_revision: str | None = "0013_report_counts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BREACHED_UNMET = sa.text("state = 'breached' AND met_at IS NULL")
BREACHED_RUNNING = sa.text("state = 'breached' AND met_at IS NULL AND stopped_at IS NULL")

# The rules' stopped_at is when the ticket entered the stopping statuses (the default policy's resolved and
# closed) it is still in: resolved_at for a resolved ticket and for one closed after being resolved (reopening
# clears it), closed_at for one closed straight away. The next recompute of a ticket writes the rules' value.
# The report counters' triggers (0013_report_counts) ignore the column: no counted figure moves.
BACKFILL = """
UPDATE ticket_sla_target SET stopped_at = (
    SELECT COALESCE(t.resolved_at, t.closed_at, t.updated_at) FROM ticket t
    WHERE t.id = ticket_sla_target.ticket_id
)
WHERE ticket_id IN (SELECT id FROM ticket WHERE status IN ('resolved', 'closed'))
"""


def upgrade() -> None:
    op.drop_index("ix_report_breached_clock_due", table_name="ticket_sla_target")
    # A plain ADD COLUMN (no batch rebuild): rebuilding the table on SQLite would drop its triggers.
    op.add_column(
        "ticket_sla_target",
        sa.Column("stopped_at", helpdesk.core.db.UTCDateTime(timezone=True), nullable=True),
    )
    # Filled before the index exists, so the index is built once over what remains.
    op.execute(BACKFILL)
    op.create_index(
        "ix_report_breached_clock_due",
        "ticket_sla_target",
        ["due_at", "ticket_id"],
        unique=False,
        postgresql_where=BREACHED_RUNNING,
        sqlite_where=BREACHED_RUNNING,
    )


def downgrade() -> None:
    op.drop_index("ix_report_breached_clock_due", table_name="ticket_sla_target")
    op.drop_column("ticket_sla_target", "stopped_at")
    op.create_index(
        "ix_report_breached_clock_due",
        "ticket_sla_target",
        ["due_at", "ticket_id"],
        unique=False,
        postgresql_where=BREACHED_UNMET,
        sqlite_where=BREACHED_UNMET,
    )
