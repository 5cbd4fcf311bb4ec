"""Web app: users (clinicians, admins), patient portal links, safety alerts raised by questionnaire answers.

Existing questionnaire responses whose stored score carries a safety alert get an open alert row, so an
answer recorded before this revision still reaches a clinician.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

from fbss.store.models import UtcDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def _backfill_alerts() -> None:
    """One open alert row per alert found in an existing response's stored score."""
    responses = sa.table(
        "questionnaire_responses",
        sa.column("id", sa.Integer()),
        sa.column("patient_id", sa.Integer()),
        sa.column("score", sa.JSON()),
        sa.column("completed_at", UtcDateTime()),
    )
    alerts = sa.table(
        "safety_alerts",
        sa.column("patient_id", sa.Integer()),
        sa.column("response_id", sa.Integer()),
        sa.column("alert_id", sa.String()),
        sa.column("raised_at", UtcDateTime()),
    )
    bind = op.get_bind()
    rows: list[dict[str, Any]] = []
    for row in bind.execute(sa.select(responses).order_by(responses.c.id)):
        score = row.score if isinstance(row.score, dict) else {}
        for alert in score.get("alerts") or []:
            if isinstance(alert, dict) and isinstance(alert.get("alert_id"), str):
                rows.append(
                    {
                        "patient_id": row.patient_id,
                        "response_id": row.id,
                        "alert_id": alert["alert_id"],
                        "raised_at": row.completed_at,
                    }
                )
    if rows:
        bind.execute(sa.insert(alerts), rows)


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("display_name", sa.String(length=200), nullable=True),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("disabled_at", UtcDateTime(), nullable=True),
        sa.CheckConstraint("role IN ('clinician', 'admin')", name=op.f("ck_users_role")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("username", name=op.f("uq_users_username")),
    )
    op.create_table(
        "portal_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("time_point", sa.String(length=64), nullable=True),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("expires_at", UtcDateTime(), nullable=False),
        sa.Column("used_at", UtcDateTime(), nullable=True),
        sa.Column("revoked_at", UtcDateTime(), nullable=True),
        sa.Column("revoked_by", sa.String(length=100), nullable=True),
        sa.ForeignKeyConstraint(["patient_id"], ["patients.id"], name=op.f("fk_portal_links_patient_id_patients")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_portal_links")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_portal_links_token_hash")),
    )
    op.create_index(op.f("ix_portal_links_patient_id"), "portal_links", ["patient_id"])
    op.create_table(
        "safety_alerts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("response_id", sa.Integer(), nullable=False),
        sa.Column("alert_id", sa.String(length=64), nullable=False),
        sa.Column("raised_at", UtcDateTime(), nullable=False),
        sa.Column("acknowledged_by", sa.String(length=100), nullable=True),
        sa.Column("acknowledged_at", UtcDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["patient_id"], ["patients.id"], name=op.f("fk_safety_alerts_patient_id_patients")),
        sa.ForeignKeyConstraint(
            ["response_id"],
            ["questionnaire_responses.id"],
            name=op.f("fk_safety_alerts_response_id_questionnaire_responses"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_safety_alerts")),
        sa.UniqueConstraint("response_id", "alert_id", name=op.f("uq_safety_alerts_response_id_alert_id")),
    )
    op.create_index(op.f("ix_safety_alerts_patient_id"), "safety_alerts", ["patient_id"])
    _backfill_alerts()


def downgrade() -> None:
    op.drop_index(op.f("ix_safety_alerts_patient_id"), table_name="safety_alerts")
    op.drop_table("safety_alerts")
    op.drop_index(op.f("ix_portal_links_patient_id"), table_name="portal_links")
    op.drop_table("portal_links")
    op.drop_table("users")
