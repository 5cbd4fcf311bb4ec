"""Case schema versions: a case written for an older schema is brought up to the current one before validation.

Version 1 is every case written before versions were counted (no `schema_version`, or "1"). Version 2 added the
presentation vocabulary (pain in words, qualities, onset and trend, function and work, general signs, alignment,
reflexes, operative details, treatment responses, comorbidities, more study findings and labs); every addition is
optional with an unknown default, so a version 1 case means exactly the same in version 2.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

SCHEMA_VERSION = "2"
FIRST_VERSION = "1"


def _v1_to_v2(data: dict[str, Any]) -> dict[str, Any]:
    # nothing was renamed or removed: the version number is the only change
    return {**data, "schema_version": "2"}


STEPS: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {"1": _v1_to_v2}
"""One step per version: the function that turns a case of that version into the next version."""


def migrate(data: dict[str, Any]) -> dict[str, Any]:
    """The case data in the current schema; an unknown version is left for validation to refuse by name."""
    version = data.get("schema_version", FIRST_VERSION)
    if isinstance(version, int) and not isinstance(version, bool):
        version = str(version)
        data = {**data, "schema_version": version}
    if not isinstance(version, str):
        return data
    while version in STEPS:
        data = STEPS[version](data)
        version = data["schema_version"]
    return data
