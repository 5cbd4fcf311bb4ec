"""The project's one exception family: every error names what is wrong and how to fix it."""

from __future__ import annotations


class FbssError(Exception):
    """Base of every error FBSS Navigator raises on purpose; its message is meant for the user."""


class CaseError(FbssError):
    """A patient case is invalid: the message names the field and what was expected."""


class KnowledgeError(FbssError):
    """A knowledge-base file is invalid: the message names the file, the entry, the line and the reason."""


class NotFoundError(FbssError):
    """Something asked for by id does not exist."""
