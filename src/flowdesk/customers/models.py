"""Customer tables (SQLAlchemy Core), portable between SQLite and PostgreSQL.

Migration 0002 (store/migrations/versions/v0002_customers.py) creates exactly these tables;
tests/customers/test_models.py checks that the two agree on both databases.

A merged customer keeps its row (status "merged", `merged_into` set) so that events and
references to it still resolve, and so that an unmerge can bring it back.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    PrimaryKeyConstraint,
    String,
    Table,
    UniqueConstraint,
)

from flowdesk.store.tables import UtcDateTime

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_name)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "pk": "pk_%(table_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s",
    }
)

ID = String(64)

customers = Table(
    "customers",
    metadata,
    Column("id", ID, primary_key=True),
    Column("status", String(20), nullable=False),  # active | provisional | merged
    Column("review_required", Boolean, nullable=False),
    Column("review_reason", String(200)),
    Column("merged_into", ID),
    Column("display_name", String(200)),
    Column("given_name", String(100)),
    Column("family_name", String(100)),
    Column("birth_date", String(10)),  # ISO yyyy-mm-dd
    Column("street", String(200)),
    Column("locality", String(100)),
    Column("postcode", String(20)),
    Column("region", String(100)),
    Column("country", String(2)),
    Column("segment", String(50)),
    Column("value", Numeric(14, 2)),
    Column("name_key", String(20)),  # phonetic key of the family name, for blocking
    Column("version", Integer, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Index("ix_customers_name_key", "name_key"),
    Index("ix_customers_birth_date", "birth_date"),
    Index("ix_customers_postcode", "postcode"),
    Index("ix_customers_merged_into", "merged_into"),
)

customer_identities = Table(
    "customer_identities",
    metadata,
    Column("id", ID, primary_key=True),
    Column("customer_id", ID, ForeignKey("customers.id"), nullable=False),
    Column("kind", String(20), nullable=False),  # email | phone | social | account | device
    Column("value", String(320), nullable=False),  # normalised
    Column("raw", String(400)),  # as first given
    Column("verified", Boolean, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    UniqueConstraint("kind", "value"),
    Index("ix_customer_identities_customer_id", "customer_id"),
)

customer_preferences = Table(
    "customer_preferences",
    metadata,
    Column("customer_id", ID, ForeignKey("customers.id"), primary_key=True),
    Column("channel", String(20)),  # preferred channel for notifications
    Column("language", String(20)),  # BCP 47 tag
    Column("quiet_start", String(5)),  # HH:MM local time
    Column("quiet_end", String(5)),
    Column("timezone", String(60)),
    Column("updated_at", UtcDateTime, nullable=False),
)

customer_consents = Table(
    "customer_consents",
    metadata,
    Column("customer_id", ID, ForeignKey("customers.id"), nullable=False),
    Column("channel", String(20), nullable=False),
    Column("granted", Boolean, nullable=False),
    Column("source", String(100)),
    Column("updated_at", UtcDateTime, nullable=False),
    PrimaryKeyConstraint("customer_id", "channel"),
)

customer_merges = Table(
    "customer_merges",
    metadata,
    Column("id", ID, primary_key=True),
    Column("survivor_id", ID, ForeignKey("customers.id"), nullable=False),
    Column("merged_id", ID, ForeignKey("customers.id"), nullable=False),
    Column("status", String(20), nullable=False),  # merged | undone
    Column("merged_status", String(20), nullable=False),  # status of the merged one before
    Column("reason", String(200)),
    Column("actor", String(100)),
    Column("moved_identities", JSON, nullable=False),  # identity ids moved to the survivor
    Column("filled_fields", JSON, nullable=False),  # survivor fields filled from the merged
    Column("merged_at", UtcDateTime, nullable=False),
    Column("unmerged_at", UtcDateTime),
    Column("unmerged_by", String(100)),
    Index("ix_customer_merges_survivor_id", "survivor_id"),
    Index("ix_customer_merges_merged_id", "merged_id"),
)
