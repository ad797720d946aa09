"""report counters: open tickets per queue/organisation/priority and finished SLA clocks per hour and UTC day,
kept by triggers on ticket and ticket_sla_target in the same transaction (the dashboard reads sums of a few
rows instead of scanning a million tickets), filled from the existing rows; breached, never met clocks by
deadline (the dashboard's live list); satisfaction ratings per hour and UTC day; the newest tickets of a queue or organisation (replacing the
single-column indexes), covering the times reported

Revision ID: 0013_report_counts
Revises: 0011_page_indexes (depends on 0006_web)
Create Date: 2026-11-23 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import helpdesk.core.db

revision: str = "0013_report_counts"
down_revision: str | None = "0011_page_indexes"
branch_labels: str | Sequence[str] | None = None
# satisfaction_rating (the rating counters' triggers) comes from the web branch.
depends_on: str | Sequence[str] | None = "0006_web"

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
# helpdesk.tickets.rules.OPEN_STATUSES when this migration was written.
OPEN = "('new', 'open', 'pending_customer', 'pending_internal')"
FINISH_COLUMNS = (
    "span, period_start, target, queue_id, organisation_id, priority, met, clocks, margin_minutes, settled"
)
BACKLOG_COLUMNS = "queue_id, organisation_id, priority, tickets, settled"
RATING_COLUMNS = "span, period_start, score, queue_id, organisation_id, priority, ratings, settled"


def _finished(row: str) -> str:
    """When the clock ``row`` finished (met, else breached), null while it runs."""
    return (
        f"CASE WHEN {row}.met_at IS NOT NULL THEN {row}.met_at "
        f"WHEN {row}.state = 'breached' THEN {row}.breached_at END"
    )


def _met(row: str) -> str:
    return f"CASE WHEN {row}.met_at IS NOT NULL AND {row}.state = 'met' THEN 1 ELSE 0 END"


def _sqlite_start(span: str, instant: str) -> str:
    # SQLAlchemy stores SQLite datetimes as 'YYYY-MM-DD HH:MM:SS.ffffff' (UTC, see UTCDateTime).
    if span == "hour":
        return f"substr({instant}, 1, 13) || ':00:00.000000'"
    return f"substr({instant}, 1, 10) || ' 00:00:00.000000'"


def _sqlite_contribution(clocks: str, dims: str, sign: str) -> str:
    """INSERT of the hour and day rows of the finished clocks ``clocks`` (a subquery with target, margin, at,
    met and the ticket's queue, organisation and priority as ``dims``), each with ``sign`` +1 or -1."""
    selects = [
        f"SELECT '{span}', {_sqlite_start(span, 'f.at')}, f.target, {dims}, {sign} * f.met, {sign}, "
        f"{sign} * f.margin, 0 FROM {clocks} WHERE f.at IS NOT NULL"
        for span in ("hour", "day")
    ]
    return f"INSERT INTO report_sla_finish_count ({FINISH_COLUMNS}) " + " UNION ALL ".join(selects) + ";"


def _sqlite_clock(row: str, source: str = "") -> str:
    """The clock ``row`` (NEW, OLD, or an alias in ``source``) as a subquery f."""
    return (
        f"(SELECT {row}.ticket_id AS ticket_id, {row}.target AS target, {row}.margin_minutes AS margin, "
        f"{_finished(row)} AS at, {_met(row)} AS met{source}) f"
    )


def _sqlite_own_clock(row: str, sign: str) -> str:
    """Counts of the clock ``row`` under its ticket's current queue, organisation and priority."""
    return _sqlite_contribution(
        f"{_sqlite_clock(row)} JOIN ticket t ON t.id = f.ticket_id",
        "t.queue_id, t.organisation_id, t.priority",
        sign,
    )


def _sqlite_ratings(source: str, dims: str, sign: str) -> str:
    """INSERT of the hour and day rows of the ratings r in ``source`` counted under ``dims``."""
    selects = [
        f"SELECT '{span}', {_sqlite_start(span, 'r.updated_at')}, r.score, {dims}, {sign}, 0 FROM {source}"
        for span in ("hour", "day")
    ]
    return f"INSERT INTO report_rating_count ({RATING_COLUMNS}) " + " UNION ALL ".join(selects) + ";"


def _sqlite_own_rating(row: str, sign: str) -> str:
    source = f"(SELECT {row}.ticket_id AS ticket_id, {row}.score AS score, {row}.updated_at AS updated_at) r"
    return _sqlite_ratings(
        f"{source} JOIN ticket t ON t.id = r.ticket_id", "t.queue_id, t.organisation_id, t.priority", sign
    )


def _sqlite_triggers() -> list[str]:
    backlog = f"INSERT INTO report_backlog_count ({BACKLOG_COLUMNS})"
    clock_fields = ("state", "met_at", "breached_at", "margin_minutes", "target", "ticket_id")
    clock_changed = " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in clock_fields)
    dims_changed = " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in ("queue_id", "organisation_id", "priority"))
    old_dims, new_dims = (
        "OLD.queue_id, OLD.organisation_id, OLD.priority",
        "NEW.queue_id, NEW.organisation_id, NEW.priority",
    )
    clocks = _sqlite_clock("x", " FROM ticket_sla_target x WHERE x.ticket_id = NEW.id")
    ratings = "satisfaction_rating r WHERE r.ticket_id = NEW.id"
    moved = [
        _sqlite_contribution(clocks, dims, sign) + _sqlite_ratings(ratings, dims, sign)
        for dims, sign in ((old_dims, "-1"), (new_dims, "1"))
    ]
    rating_changed = " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in ("score", "updated_at", "ticket_id"))
    return [
        f"""CREATE TRIGGER report_backlog_insert AFTER INSERT ON ticket WHEN NEW.status IN {OPEN} BEGIN
            {backlog} VALUES (NEW.queue_id, NEW.organisation_id, NEW.priority, 1, 0); END""",
        f"""CREATE TRIGGER report_backlog_delete AFTER DELETE ON ticket WHEN OLD.status IN {OPEN} BEGIN
            {backlog} VALUES (OLD.queue_id, OLD.organisation_id, OLD.priority, -1, 0); END""",
        f"""CREATE TRIGGER report_backlog_update AFTER UPDATE OF status, queue_id, organisation_id, priority ON ticket
            WHEN (OLD.status IN {OPEN}) <> (NEW.status IN {OPEN}) OR {dims_changed} BEGIN
            {backlog} SELECT {old_dims}, -1, 0 WHERE OLD.status IN {OPEN};
            {backlog} SELECT {new_dims}, 1, 0 WHERE NEW.status IN {OPEN}; END""",
        f"""CREATE TRIGGER report_finish_clock_insert AFTER INSERT ON ticket_sla_target BEGIN
            {_sqlite_own_clock("NEW", "1")} END""",
        f"""CREATE TRIGGER report_finish_clock_delete AFTER DELETE ON ticket_sla_target BEGIN
            {_sqlite_own_clock("OLD", "-1")} END""",
        f"""CREATE TRIGGER report_finish_clock_update AFTER UPDATE ON ticket_sla_target WHEN {clock_changed} BEGIN
            {_sqlite_own_clock("OLD", "-1")}
            {_sqlite_own_clock("NEW", "1")} END""",
        f"""CREATE TRIGGER report_rating_insert AFTER INSERT ON satisfaction_rating BEGIN
            {_sqlite_own_rating("NEW", "1")} END""",
        f"""CREATE TRIGGER report_rating_delete AFTER DELETE ON satisfaction_rating BEGIN
            {_sqlite_own_rating("OLD", "-1")} END""",
        f"""CREATE TRIGGER report_rating_update AFTER UPDATE ON satisfaction_rating WHEN {rating_changed} BEGIN
            {_sqlite_own_rating("OLD", "-1")}
            {_sqlite_own_rating("NEW", "1")} END""",
        # A ticket's clocks and rating leave before it does, while their counts can still find its queue and
        # organisation.
        """CREATE TRIGGER report_counts_ticket_delete BEFORE DELETE ON ticket BEGIN
            DELETE FROM ticket_sla_target WHERE ticket_id = OLD.id;
            DELETE FROM satisfaction_rating WHERE ticket_id = OLD.id; END""",
        f"""CREATE TRIGGER report_counts_ticket_update AFTER UPDATE OF queue_id, organisation_id, priority ON ticket
            WHEN {dims_changed} BEGIN {moved[0]} {moved[1]} END""",
    ]


PG_FUNCTIONS = f"""
CREATE FUNCTION report_backlog_delta() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO report_backlog_count ({BACKLOG_COLUMNS})
        SELECT queue_id, organisation_id, priority, count(*), false FROM new_rows
        WHERE status IN {OPEN} GROUP BY 1, 2, 3;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO report_backlog_count ({BACKLOG_COLUMNS})
        SELECT queue_id, organisation_id, priority, -count(*), false FROM old_rows
        WHERE status IN {OPEN} GROUP BY 1, 2, 3;
    ELSE
        INSERT INTO report_backlog_count ({BACKLOG_COLUMNS})
        SELECT queue_id, organisation_id, priority, sum(n), false FROM (
            SELECT queue_id, organisation_id, priority, 1 AS n FROM new_rows WHERE status IN {OPEN}
            UNION ALL
            SELECT queue_id, organisation_id, priority, -1 FROM old_rows WHERE status IN {OPEN}
        ) d GROUP BY 1, 2, 3 HAVING sum(n) <> 0;
    END IF;
    RETURN NULL;
END $$;

CREATE FUNCTION report_finish_add(
    clock ticket_sla_target, queue bigint, organisation bigint, prio varchar, sign integer
) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    finished timestamptz := {_finished("clock")};
    met integer := sign * {_met("clock")};
BEGIN
    IF finished IS NULL THEN
        RETURN;
    END IF;
    INSERT INTO report_sla_finish_count ({FINISH_COLUMNS}) VALUES
        ('hour', date_trunc('hour', finished, 'UTC'), clock.target, queue, organisation, prio, met, sign,
         sign * clock.margin_minutes, false),
        ('day', date_trunc('day', finished, 'UTC'), clock.target, queue, organisation, prio, met, sign,
         sign * clock.margin_minutes, false);
END $$;

-- The ticket is read FOR SHARE: a concurrent queue, organisation or priority change (report_counts_ticket,
-- which moves the clock's committed state) either commits first and is read here, or waits until this
-- transaction commits and then moves this clock's new state. A plain read could book the clock under the
-- ticket's old dimensions after they moved. Movers lock no clocks, so the two cannot deadlock.
CREATE FUNCTION report_finish_clock() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    t record;
BEGIN
    IF TG_OP = 'UPDATE' AND (OLD.state, OLD.met_at, OLD.breached_at, OLD.margin_minutes, OLD.target,
            OLD.ticket_id) IS NOT DISTINCT FROM (NEW.state, NEW.met_at, NEW.breached_at, NEW.margin_minutes,
            NEW.target, NEW.ticket_id) THEN
        RETURN NULL;
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        SELECT queue_id, organisation_id, priority INTO t FROM ticket WHERE id = OLD.ticket_id
            FOR SHARE;
        IF FOUND THEN
            PERFORM report_finish_add(OLD, t.queue_id, t.organisation_id, t.priority, -1);
        END IF;
    END IF;
    IF TG_OP IN ('UPDATE', 'INSERT') THEN
        SELECT queue_id, organisation_id, priority INTO t FROM ticket WHERE id = NEW.ticket_id
            FOR SHARE;
        IF FOUND THEN
            PERFORM report_finish_add(NEW, t.queue_id, t.organisation_id, t.priority, 1);
        END IF;
    END IF;
    RETURN NULL;
END $$;

CREATE FUNCTION report_rating_add(
    rating satisfaction_rating, queue bigint, organisation bigint, prio varchar, sign integer
) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO report_rating_count ({RATING_COLUMNS}) VALUES
        ('hour', date_trunc('hour', rating.updated_at, 'UTC'), rating.score, queue, organisation, prio, sign, false),
        ('day', date_trunc('day', rating.updated_at, 'UTC'), rating.score, queue, organisation, prio, sign, false);
END $$;

-- The ticket is read FOR SHARE, as in report_finish_clock.
CREATE FUNCTION report_rating() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    t record;
BEGIN
    IF TG_OP = 'UPDATE' AND (OLD.score, OLD.updated_at, OLD.ticket_id)
            IS NOT DISTINCT FROM (NEW.score, NEW.updated_at, NEW.ticket_id) THEN
        RETURN NULL;
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        SELECT queue_id, organisation_id, priority INTO t FROM ticket WHERE id = OLD.ticket_id
            FOR SHARE;
        IF FOUND THEN
            PERFORM report_rating_add(OLD, t.queue_id, t.organisation_id, t.priority, -1);
        END IF;
    END IF;
    IF TG_OP IN ('UPDATE', 'INSERT') THEN
        SELECT queue_id, organisation_id, priority INTO t FROM ticket WHERE id = NEW.ticket_id
            FOR SHARE;
        IF FOUND THEN
            PERFORM report_rating_add(NEW, t.queue_id, t.organisation_id, t.priority, 1);
        END IF;
    END IF;
    RETURN NULL;
END $$;

CREATE FUNCTION report_counts_ticket() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    clock ticket_sla_target;
    rating satisfaction_rating;
BEGIN
    IF TG_OP = 'DELETE' THEN
        -- The ticket's clocks and rating leave before it does, while their counts can still find its
        -- dimensions.
        DELETE FROM ticket_sla_target WHERE ticket_id = OLD.id;
        DELETE FROM satisfaction_rating WHERE ticket_id = OLD.id;
        RETURN OLD;
    END IF;
    FOR clock IN SELECT * FROM ticket_sla_target WHERE ticket_id = NEW.id LOOP
        PERFORM report_finish_add(clock, OLD.queue_id, OLD.organisation_id, OLD.priority, -1);
        PERFORM report_finish_add(clock, NEW.queue_id, NEW.organisation_id, NEW.priority, 1);
    END LOOP;
    FOR rating IN SELECT * FROM satisfaction_rating WHERE ticket_id = NEW.id LOOP
        PERFORM report_rating_add(rating, OLD.queue_id, OLD.organisation_id, OLD.priority, -1);
        PERFORM report_rating_add(rating, NEW.queue_id, NEW.organisation_id, NEW.priority, 1);
    END LOOP;
    RETURN NULL;
END $$;
"""

PG_TRIGGERS = [
    "CREATE TRIGGER report_backlog_insert AFTER INSERT ON ticket REFERENCING NEW TABLE AS new_rows "
    "FOR EACH STATEMENT EXECUTE FUNCTION report_backlog_delta()",
    "CREATE TRIGGER report_backlog_update AFTER UPDATE ON ticket "
    "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION report_backlog_delta()",
    "CREATE TRIGGER report_backlog_delete AFTER DELETE ON ticket REFERENCING OLD TABLE AS old_rows "
    "FOR EACH STATEMENT EXECUTE FUNCTION report_backlog_delta()",
    "CREATE TRIGGER report_finish_clock AFTER INSERT OR UPDATE OR DELETE ON ticket_sla_target "
    "FOR EACH ROW EXECUTE FUNCTION report_finish_clock()",
    "CREATE TRIGGER report_rating AFTER INSERT OR UPDATE OR DELETE ON satisfaction_rating "
    "FOR EACH ROW EXECUTE FUNCTION report_rating()",
    "CREATE TRIGGER report_counts_ticket_delete BEFORE DELETE ON ticket "
    "FOR EACH ROW EXECUTE FUNCTION report_counts_ticket()",
    "CREATE TRIGGER report_counts_ticket_update AFTER UPDATE OF queue_id, organisation_id, priority ON ticket "
    "FOR EACH ROW WHEN ((OLD.queue_id, OLD.organisation_id, OLD.priority) IS DISTINCT FROM "
    "(NEW.queue_id, NEW.organisation_id, NEW.priority)) EXECUTE FUNCTION report_counts_ticket()",
]


def _fill(dialect: str) -> list[str]:
    """Settled rows counting what the database holds now."""
    statements = [
        f"INSERT INTO report_backlog_count ({BACKLOG_COLUMNS}) "
        f"SELECT queue_id, organisation_id, priority, count(*), {_true(dialect)} FROM ticket "
        f"WHERE status IN {OPEN} GROUP BY queue_id, organisation_id, priority"
    ]
    for span in ("hour", "day"):
        start = (
            f"date_trunc('{span}', f.at, 'UTC')" if dialect == "postgresql" else _sqlite_start(span, "f.at")
        )
        statements.append(
            f"INSERT INTO report_sla_finish_count ({FINISH_COLUMNS}) "
            f"SELECT '{span}', {start}, f.target, t.queue_id, t.organisation_id, t.priority, sum(f.met), "
            f"count(*), sum(f.margin_minutes), {_true(dialect)} "
            f"FROM (SELECT x.ticket_id, x.target, x.margin_minutes, {_finished('x')} AS at, {_met('x')} AS met "
            f"FROM ticket_sla_target x) f JOIN ticket t ON t.id = f.ticket_id WHERE f.at IS NOT NULL "
            f"GROUP BY {start}, f.target, t.queue_id, t.organisation_id, t.priority"
        )
        start = (
            f"date_trunc('{span}', r.updated_at, 'UTC')"
            if dialect == "postgresql"
            else _sqlite_start(span, "r.updated_at")
        )
        statements.append(
            f"INSERT INTO report_rating_count ({RATING_COLUMNS}) "
            f"SELECT '{span}', {start}, r.score, t.queue_id, t.organisation_id, t.priority, count(*), "
            f"{_true(dialect)} FROM satisfaction_rating r JOIN ticket t ON t.id = r.ticket_id "
            f"GROUP BY {start}, r.score, t.queue_id, t.organisation_id, t.priority"
        )
    return statements


def _true(dialect: str) -> str:
    return "true" if dialect == "postgresql" else "1"


def upgrade() -> None:
    op.create_table(
        "report_backlog_count",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("queue_id", BigId, nullable=True),
        sa.Column("organisation_id", BigId, nullable=True),
        sa.Column("priority", sa.String(length=2), nullable=False),
        sa.Column("tickets", sa.Integer(), nullable=False),
        sa.Column("settled", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_backlog_count")),
    )
    op.create_index(
        "ix_report_backlog_count_unsettled", "report_backlog_count", ["settled", "id"], unique=False
    )
    op.create_table(
        "report_sla_finish_count",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("span", sa.String(length=4), nullable=False),
        sa.Column("period_start", helpdesk.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("target", sa.String(length=20), nullable=False),
        sa.Column("queue_id", BigId, nullable=True),
        sa.Column("organisation_id", BigId, nullable=True),
        sa.Column("priority", sa.String(length=2), nullable=False),
        sa.Column("met", sa.Integer(), nullable=False),
        sa.Column("clocks", sa.Integer(), nullable=False),
        sa.Column("margin_minutes", sa.Float(), nullable=False),
        sa.Column("settled", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_sla_finish_count")),
    )
    op.create_index(
        "ix_report_sla_finish_count_period",
        "report_sla_finish_count",
        ["span", "period_start"],
        unique=False,
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
    )
    op.create_index(
        "ix_report_sla_finish_count_unsettled", "report_sla_finish_count", ["settled", "id"], unique=False
    )
    op.create_table(
        "report_rating_count",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("span", sa.String(length=4), nullable=False),
        sa.Column("period_start", helpdesk.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("queue_id", BigId, nullable=True),
        sa.Column("organisation_id", BigId, nullable=True),
        sa.Column("priority", sa.String(length=2), nullable=False),
        sa.Column("ratings", sa.Integer(), nullable=False),
        sa.Column("settled", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_rating_count")),
    )
    op.create_index(
        "ix_report_rating_count_period",
        "report_rating_count",
        ["span", "period_start"],
        unique=False,
        postgresql_include=["score", "queue_id", "organisation_id", "priority", "ratings", "settled"],
    )
    op.create_index(
        "ix_report_rating_count_unsettled", "report_rating_count", ["settled", "id"], unique=False
    )
    # The newest tickets of a period, of a queue, of an organisation, covering the times reported (the queue
    # and organisation indexes replace the single-column ones).
    times = ["first_responded_at", "resolved_at"]
    with op.batch_alter_table("ticket") as batch_op:
        batch_op.drop_index("ix_ticket_created_at")
        batch_op.drop_index("ix_ticket_queue_id")
        batch_op.drop_index("ix_ticket_organisation_id")
        batch_op.create_index("ix_ticket_created_at", ["created_at"], postgresql_include=times)
        batch_op.create_index("ix_ticket_queue_created", ["queue_id", "created_at"], postgresql_include=times)
        batch_op.create_index(
            "ix_ticket_organisation_created", ["organisation_id", "created_at"], postgresql_include=times
        )
    breached_unmet = sa.text("state = 'breached' AND met_at IS NULL")
    op.create_index(
        "ix_report_breached_clock_due",
        "ticket_sla_target",
        ["due_at", "ticket_id"],
        unique=False,
        postgresql_where=breached_unmet,
        sqlite_where=breached_unmet,
    )
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        for function in PG_FUNCTIONS.strip().split("\n\n"):  # one statement per execute (asyncpg)
            op.execute(function)
        for statement in PG_TRIGGERS:
            op.execute(statement)
    else:
        for statement in _sqlite_triggers():
            op.execute(statement)
    for statement in _fill(dialect):
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for trigger, table in (
            ("report_backlog_insert", "ticket"),
            ("report_backlog_update", "ticket"),
            ("report_backlog_delete", "ticket"),
            ("report_finish_clock", "ticket_sla_target"),
            ("report_rating", "satisfaction_rating"),
            ("report_counts_ticket_delete", "ticket"),
            ("report_counts_ticket_update", "ticket"),
        ):
            op.execute(f"DROP TRIGGER {trigger} ON {table}")
        for function in (
            "report_backlog_delta()",
            "report_finish_clock()",
            "report_rating()",
            "report_counts_ticket()",
            "report_finish_add(ticket_sla_target, bigint, bigint, varchar, integer)",
            "report_rating_add(satisfaction_rating, bigint, bigint, varchar, integer)",
        ):
            op.execute(f"DROP FUNCTION {function}")
    else:
        for trigger in (
            "report_backlog_insert",
            "report_backlog_delete",
            "report_backlog_update",
            "report_finish_clock_insert",
            "report_finish_clock_delete",
            "report_finish_clock_update",
            "report_rating_insert",
            "report_rating_delete",
            "report_rating_update",
            "report_counts_ticket_delete",
            "report_counts_ticket_update",
        ):
            op.execute(f"DROP TRIGGER {trigger}")
    op.drop_index("ix_report_breached_clock_due", table_name="ticket_sla_target")
    with op.batch_alter_table("ticket") as batch_op:
        batch_op.drop_index("ix_ticket_organisation_created")
        batch_op.drop_index("ix_ticket_queue_created")
        batch_op.drop_index("ix_ticket_created_at")
        batch_op.create_index("ix_ticket_created_at", ["created_at"])
        batch_op.create_index("ix_ticket_queue_id", ["queue_id"])
        batch_op.create_index("ix_ticket_organisation_id", ["organisation_id"])
    op.drop_table("report_rating_count")
    op.drop_table("report_sla_finish_count")
    op.drop_table("report_backlog_count")
