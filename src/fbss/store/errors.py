"""Errors of the patient database, members of the project's FbssError family."""

from __future__ import annotations

from fbss.errors import FbssError, NotFoundError


class StoreError(FbssError):
    """The database refused an action: duplicate identifier, used restore target, server down."""


class UnknownPatientError(StoreError, NotFoundError):
    """No patient has the identifier given."""


class DatabaseUnavailableError(FbssError):
    """The database cannot be reached, is locked or full: the action can be tried again later.

    Not a StoreError on purpose: code that shows a StoreError's message to the user as a form error (a duplicate
    record number, say) must not show this one, which names the database; the web app answers it with 503."""


class StaleVersionError(StoreError):
    """A case was saved over a version other than the newest: someone saved meanwhile."""
