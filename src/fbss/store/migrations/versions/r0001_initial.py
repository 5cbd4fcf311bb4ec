"""Initial schema: patients, case versions, assessments, questionnaire responses, audit log; guards.

Revision ID: 0001
Revises:
Create Date: 2026-11-20
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from fbss.store.models import UtcDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

Document = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")

APPEND_ONLY = ("case_versions", "assessments", "questionnaire_responses", "audit_log")
NEVER_DELETED = ("patients",)


def _create_guards() -> None:
    """Refuse UPDATE and DELETE on append-only tables, and DELETE on patients, whatever client writes."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            """
            CREATE FUNCTION fbss_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
              RAISE EXCEPTION 'fbss: rows of % are never changed or deleted (% refused)', TG_TABLE_NAME, TG_OP
                USING ERRCODE = 'integrity_constraint_violation';
            END $$
            """
        )
        for table in APPEND_ONLY:
            op.execute(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION fbss_refuse_change()"
            )
        for table in (*APPEND_ONLY, *NEVER_DELETED):
            op.execute(
                f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION fbss_refuse_change()"
            )
        for table in NEVER_DELETED:
            op.execute(
                f"CREATE TRIGGER {table}_never_deleted BEFORE DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION fbss_refuse_change()"
            )
    else:
        for table in APPEND_ONLY:
            for operation in ("UPDATE", "DELETE"):
                op.execute(
                    f"CREATE TRIGGER {table}_no_{operation.lower()} BEFORE {operation} ON {table} BEGIN "
                    f"SELECT RAISE(ABORT, 'fbss: rows of {table} are never changed or deleted'); END"
                )
        for table in NEVER_DELETED:
            op.execute(
                f"CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table} BEGIN "
                f"SELECT RAISE(ABORT, 'fbss: rows of {table} are never deleted'); END"
            )


def _drop_guards() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION fbss_refuse_change() CASCADE")
    else:
        for table in APPEND_ONLY:
            op.execute(f"DROP TRIGGER {table}_no_update")
            op.execute(f"DROP TRIGGER {table}_no_delete")
        for table in NEVER_DELETED:
            op.execute(f"DROP TRIGGER {table}_no_delete")


def upgrade() -> None:
    op.create_table(
        "patients",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("identifier", sa.String(length=64), nullable=False),
        sa.Column("display_name", sa.String(length=200), nullable=True),
        sa.Column("birth_year", sa.Integer(), nullable=True),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.CheckConstraint(
            "birth_year IS NULL OR (birth_year BETWEEN 1900 AND 2200)", name=op.f("ck_patients_birth_year")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_patients")),
        sa.UniqueConstraint("identifier", name=op.f("uq_patients_identifier")),
    )
    op.create_table(
        "case_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("case_json", Document, nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.CheckConstraint("version >= 1", name=op.f("ck_case_versions_version_positive")),
        sa.ForeignKeyConstraint(["patient_id"], ["patients.id"], name=op.f("fk_case_versions_patient_id_patients")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_versions")),
        sa.UniqueConstraint("patient_id", "version", name=op.f("uq_case_versions_patient_id_version")),
    )
    op.create_table(
        "assessments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_version_id", sa.Integer(), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("engine_version", sa.String(length=40), nullable=False),
        sa.Column("knowledge_version", sa.String(length=40), nullable=False),
        sa.Column("knowledge_fingerprint", sa.String(length=64), nullable=False),
        sa.Column("result", Document, nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_version_id"],
            ["case_versions.id"],
            name=op.f("fk_assessments_case_version_id_case_versions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assessments")),
    )
    op.create_index(op.f("ix_assessments_case_version_id"), "assessments", ["case_version_id"])
    op.create_table(
        "questionnaire_responses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("instrument_id", sa.String(length=64), nullable=False),
        sa.Column("time_point", sa.String(length=64), nullable=True),
        sa.Column("answers", Document, nullable=False),
        sa.Column("score", Document, nullable=False),
        sa.Column("completed_at", UtcDateTime(), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_questionnaire_responses_patient_id_patients")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_questionnaire_responses")),
    )
    op.create_index(
        "ix_questionnaire_responses_patient",
        "questionnaire_responses",
        ["patient_id", "instrument_id", "completed_at"],
    )
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.Column("who", sa.String(length=100), nullable=False),
        sa.Column("action", sa.String(length=20), nullable=False),
        sa.Column("entity", sa.String(length=40), nullable=False),
        sa.Column("entity_id", sa.String(length=64), nullable=True),
        sa.Column("patient_id", sa.Integer(), nullable=True),
        sa.Column("previous_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
        sa.UniqueConstraint("hash", name=op.f("uq_audit_log_hash")),
    )
    op.create_index(op.f("ix_audit_log_patient_id"), "audit_log", ["patient_id"])
    _create_guards()


def downgrade() -> None:
    _drop_guards()
    op.drop_index(op.f("ix_audit_log_patient_id"), table_name="audit_log")
    op.drop_table("audit_log")
    op.drop_index("ix_questionnaire_responses_patient", table_name="questionnaire_responses")
    op.drop_table("questionnaire_responses")
    op.drop_index(op.f("ix_assessments_case_version_id"), table_name="assessments")
    op.drop_table("assessments")
    op.drop_table("case_versions")
    op.drop_table("patients")
