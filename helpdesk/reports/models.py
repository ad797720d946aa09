"""Counters behind the managers' dashboard, kept by database triggers in the same transaction as the rows they
count (migration 0013_report_counts), so that the figures never scan the ticket or SLA clock tables.

Each table holds signed deltas: a trigger adds a row (+1 or -1 and the like) whenever a ticket or an SLA clock
changes what it counts under, and the figure for a key is the sum of its rows. A sum is exact at any moment,
inside any transaction; ``fold_report_counts`` (a cron) only folds the unsettled rows into one settled row per
key so that the tables stay small. Bulk loads that switch triggers off (``session_replication_role = replica``)
must call ``recount_report_counts`` afterwards.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Float, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from helpdesk.core.db import Base, BigId, IntPK
from sla.models import TargetStateRow

HOUR, DAY = "hour", "day"


class BacklogCount(Base):
    """Open tickets (new, open, pending) per queue, organisation and priority."""

    __tablename__ = "report_backlog_count"
    __table_args__ = (Index("ix_report_backlog_count_unsettled", "settled", "id"),)

    id: Mapped[IntPK]
    queue_id: Mapped[int | None] = mapped_column(BigId)
    organisation_id: Mapped[int | None] = mapped_column(BigId)
    priority: Mapped[str] = mapped_column(String(2))
    tickets: Mapped[int] = mapped_column(Integer)
    # False: a trigger's delta, waiting to be folded; true: the folded total of its key.
    settled: Mapped[bool] = mapped_column(Boolean, default=False)


class FinishedClockCount(Base):
    """SLA clocks that finished in an hour or a UTC day, per target and the ticket's queue, organisation and
    priority: how many, how many met on time, and the sum of their margins. A clock finishes when it is met
    (on time or late), or when it breaches if it is never met (``ReportService.compliance_by_period``)."""

    __tablename__ = "report_sla_finish_count"
    __table_args__ = (
        # Covering on PostgreSQL: a report reads its days and hours from the index alone.
        Index(
            "ix_report_sla_finish_count_period",
            "span",
            "period_start",
            postgresql_include=[
                "target",
                "queue_id",
                "organisation_id",
                "priority",
                "met",
                "clocks",
                "margin_minutes",
                "settled",
            ],
        ),
        Index("ix_report_sla_finish_count_unsettled", "settled", "id"),
    )

    id: Mapped[IntPK]
    span: Mapped[str] = mapped_column(String(4))  # HOUR or DAY
    period_start: Mapped[datetime]
    target: Mapped[str] = mapped_column(String(20))
    queue_id: Mapped[int | None] = mapped_column(BigId)
    organisation_id: Mapped[int | None] = mapped_column(BigId)
    priority: Mapped[str] = mapped_column(String(2))
    met: Mapped[int] = mapped_column(Integer)
    clocks: Mapped[int] = mapped_column(Integer)
    margin_minutes: Mapped[float] = mapped_column(Float)
    settled: Mapped[bool] = mapped_column(Boolean, default=False)


class RatingCount(Base):
    """Satisfaction ratings given (or last changed, ``updated_at``) in an hour or a UTC day, per score and the
    ticket's queue, organisation and priority."""

    __tablename__ = "report_rating_count"
    __table_args__ = (
        Index(
            "ix_report_rating_count_period",
            "span",
            "period_start",
            postgresql_include=["score", "queue_id", "organisation_id", "priority", "ratings", "settled"],
        ),
        Index("ix_report_rating_count_unsettled", "settled", "id"),
    )

    id: Mapped[IntPK]
    span: Mapped[str] = mapped_column(String(4))  # HOUR or DAY
    period_start: Mapped[datetime]
    score: Mapped[int] = mapped_column(Integer)
    queue_id: Mapped[int | None] = mapped_column(BigId)
    organisation_id: Mapped[int | None] = mapped_column(BigId)
    priority: Mapped[str] = mapped_column(String(2))
    ratings: Mapped[int] = mapped_column(Integer)
    settled: Mapped[bool] = mapped_column(Boolean, default=False)


# The live list's breached clocks, longest overdue first, read in index order (helpdesk.reports.alerts): never
# met and still running (a resolved or closed ticket's clocks are stopped and leave the index). Declared here,
# with the report that needs it, on the SLA domain's table.
BREACHED_RUNNING = text("state = 'breached' AND met_at IS NULL AND stopped_at IS NULL")
Index(
    "ix_report_breached_clock_due",
    TargetStateRow.due_at,
    TargetStateRow.ticket_id,
    postgresql_where=BREACHED_RUNNING,
    sqlite_where=BREACHED_RUNNING,
)
