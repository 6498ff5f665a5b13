"""Bundle versions: the files of every deployed experience bundle, its number per bundle name
and the process definitions it ran on (what `flowdesk bundle versions|rollback` and the REST
routes list, diff and restore).

Revision ID: 0009
Revises: 0007

Bundles deployed before this revision get their numbers by deployment time; they have no stored
files, so they can be listed but not diffed or restored (deploying them again stores them).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("experience_bundles", sa.Column("number", sa.Integer))
    op.add_column("experience_bundles", sa.Column("definitions", sa.JSON))
    op.create_table(
        "experience_bundle_files",
        sa.Column("bundle_id", sa.String(36), nullable=False),
        sa.Column("name", sa.String(500), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("content", sa.LargeBinary, nullable=False),
        sa.PrimaryKeyConstraint("bundle_id", "name", name="pk_experience_bundle_files"),
    )
    bundles = sa.table(
        "experience_bundles",
        sa.column("id", sa.String),
        sa.column("name", sa.String),
        sa.column("created_at", sa.DateTime),
        sa.column("number", sa.Integer),
    )
    conn = op.get_bind()
    rows = conn.execute(
        sa.select(bundles.c.id, bundles.c.name).order_by(bundles.c.created_at, bundles.c.id)
    ).all()
    counts: dict[str, int] = {}
    for row in rows:
        counts[row.name] = counts.get(row.name, 0) + 1
        conn.execute(
            sa.update(bundles).where(bundles.c.id == row.id).values(number=counts[row.name])
        )


def downgrade() -> None:
    op.drop_table("experience_bundle_files")
    with op.batch_alter_table("experience_bundles") as batch:
        batch.drop_column("definitions")
        batch.drop_column("number")
