"""The roles of web app accounts (kept apart from the database code, which the command line loads only when used)."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    """A clinician works with patient records; an admin manages accounts and reads the audit log, not records."""

    clinician = "clinician"
    admin = "admin"
