"""Server-side web sessions (revocable), installation settings, portal-link claims, audit entry details.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from fbss.store.models import UtcDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "web_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("portal_link_id", sa.Integer(), nullable=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("last_seen_at", UtcDateTime(), nullable=False),
        sa.Column("ended_at", UtcDateTime(), nullable=True),
        sa.Column("end_reason", sa.String(length=20), nullable=True),
        sa.CheckConstraint("(user_id IS NULL) <> (portal_link_id IS NULL)", name=op.f("ck_web_sessions_one_identity")),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_web_sessions_user_id_users")),
        sa.ForeignKeyConstraint(
            ["portal_link_id"], ["portal_links.id"], name=op.f("fk_web_sessions_portal_link_id_portal_links")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_web_sessions")),
        sa.UniqueConstraint("key_hash", name=op.f("uq_web_sessions_key_hash")),
    )
    op.create_index(op.f("ix_web_sessions_user_id"), "web_sessions", ["user_id"])
    op.create_index(op.f("ix_web_sessions_portal_link_id"), "web_sessions", ["portal_link_id"])
    op.create_table(
        "settings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("value", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_settings")),
        sa.UniqueConstraint("key", name=op.f("uq_settings_key")),
    )
    # Plain ADD COLUMN (no table rebuild), so the append-only triggers on audit_log stay in place.
    op.add_column("audit_log", sa.Column("detail", sa.String(length=200), nullable=True))
    op.add_column("portal_links", sa.Column("claimed_session_id", sa.Integer(), nullable=True))
    op.add_column("portal_links", sa.Column("claimed_at", UtcDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("portal_links") as batch:
        batch.drop_column("claimed_at")
        batch.drop_column("claimed_session_id")
    if op.get_bind().dialect.name == "postgresql":
        op.drop_column("audit_log", "detail")
    else:
        # SQLite 3.35+ drops a column in place; the append-only triggers do not name it.
        op.execute("ALTER TABLE audit_log DROP COLUMN detail")
    op.drop_table("settings")
    op.drop_index(op.f("ix_web_sessions_portal_link_id"), table_name="web_sessions")
    op.drop_index(op.f("ix_web_sessions_user_id"), table_name="web_sessions")
    op.drop_table("web_sessions")
