"""The index of archived months per subject (both databases), and on PostgreSQL the event log
partitioned by month (declarative range partitions on `time`), so
archived months are detached and dropped instead of deleted row by row (store/archive.py).
The existing rows are copied into the new table; SQLite keeps its one table (its archive is a
Parquet file per month) and this revision does nothing there.

Revision ID: 0012_event_partitions
Revises: 0001
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import sqlalchemy as sa
from alembic import op

revision = "0012_event_partitions"
down_revision = "0001"
branch_labels = ("event_partitions",)
depends_on = None

_INDEXES = ("ix_events_txid_seq", "ix_events_process_instance_id") + tuple(
    f"ix_events_{c}" for c in ("case_id", "contact_id", "customer_id")
)


def _next(month: date) -> date:
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


def _create_indexes() -> None:
    op.create_index("ix_events_txid_seq", "events", ["txid", "seq"])
    for column in ("case_id", "contact_id", "customer_id"):
        op.create_index(
            f"ix_events_{column}",
            "events",
            [column],
            postgresql_where=sa.text(f"{column} IS NOT NULL"),
        )
    op.create_index("ix_events_process_instance_id", "events", ["process_instance_id"])


def upgrade() -> None:
    op.create_table(
        "event_archive_subjects",
        sa.Column("subject", sa.String(64), nullable=False),
        sa.Column("month", sa.String(7), nullable=False),
        sa.PrimaryKeyConstraint("subject", "month", name="pk_event_archive_subjects"),
    )
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    run = op.execute
    for name in _INDEXES:
        run(f"DROP INDEX {name}")
    run("ALTER TABLE events DROP CONSTRAINT uq_events_id")
    run("ALTER TABLE events DROP CONSTRAINT pk_events")
    run("ALTER TABLE events RENAME TO events_unpartitioned")
    run(
        "CREATE TABLE events (LIKE events_unpartitioned INCLUDING DEFAULTS, "
        "CONSTRAINT pk_events PRIMARY KEY (seq, time), "
        "CONSTRAINT uq_events_id UNIQUE (id, time)) PARTITION BY RANGE (time)"
    )
    run("ALTER SEQUENCE events_seq_seq OWNED BY events.seq")
    run("CREATE TABLE events_default PARTITION OF events DEFAULT")
    first = bind.execute(sa.text("SELECT min(time) FROM events_unpartitioned")).scalar()
    now = datetime.now(UTC)
    month = date((first or now).year, (first or now).month, 1)
    last = date(now.year, now.month, 1)
    for _ in range(2):  # partitions ready for the next two months
        last = _next(last)
    while month <= last:
        high = _next(month)
        run(
            f"CREATE TABLE events_{month:%Y_%m} PARTITION OF events FOR VALUES FROM "
            f"('{month.isoformat()} 00:00:00+00') TO ('{high.isoformat()} 00:00:00+00')"
        )
        month = high
    run("INSERT INTO events SELECT * FROM events_unpartitioned")
    run("DROP TABLE events_unpartitioned")
    _create_indexes()


def downgrade() -> None:
    op.drop_table("event_archive_subjects")
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    run = op.execute
    for name in _INDEXES:
        run(f"DROP INDEX {name}")
    run("ALTER TABLE events DROP CONSTRAINT uq_events_id")
    run("ALTER TABLE events DROP CONSTRAINT pk_events")
    run("ALTER TABLE events RENAME TO events_partitioned")
    run(
        "CREATE TABLE events (LIKE events_partitioned INCLUDING DEFAULTS, "
        "CONSTRAINT pk_events PRIMARY KEY (seq), CONSTRAINT uq_events_id UNIQUE (id))"
    )
    run("ALTER SEQUENCE events_seq_seq OWNED BY events.seq")
    run("INSERT INTO events SELECT * FROM events_partitioned")
    run("DROP TABLE events_partitioned CASCADE")
    _create_indexes()
