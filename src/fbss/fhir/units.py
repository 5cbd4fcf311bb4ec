"""Units of measure by UCUM (the Unified Code for Units of Measure that FHIR's valueQuantity.code uses), parsed and
converted with `ucumvert` (a UCUM grammar on top of the `pint` unit library).

UCUM annotations in braces carry no unit: `mL/min/{1.73_m2}` is `mL/min` to UCUM. The LOINC code of an eGFR result
says the value is per 1.73 m² of body surface, so a result sent in `mL/min` reads as the same number.
"""

from __future__ import annotations

import threading
from functools import cache
from typing import Any

import pint
from ucumvert import PintUcumRegistry

_LOCK = threading.Lock()  # pint's registry caches are not thread-safe while they fill


@cache
def _registry() -> PintUcumRegistry:
    return PintUcumRegistry()


@cache
def _parse(code: str) -> Any | None:
    """The pint quantity of one UCUM unit code, or None if it is not UCUM."""
    try:
        with _LOCK:
            return _registry().from_ucum(code)
    except Exception:  # ucumvert raises several lark and pint errors for text that is not UCUM
        return None


def is_ucum(code: str) -> bool:
    """Whether the text is a valid UCUM unit code."""
    return _parse(code) is not None


def convert(value: float, unit: str, target: str) -> float | str:
    """`value` in UCUM `unit` expressed in UCUM `target`, or a reason it cannot be converted."""
    if unit == target:
        return value
    source, wanted = _parse(unit), _parse(target)
    if source is None:
        return f"unit '{unit}' is not a UCUM unit; expected {target} or a unit convertible to it"
    assert wanted is not None, target  # the mapping's own units are checked when it is loaded
    try:
        with _LOCK:
            scale = source.magnitude if _multiplicative(source) else 1
            quantity = _registry().Quantity(value * scale, source.units)
            converted = quantity.to(wanted.units).magnitude / (wanted.magnitude if _multiplicative(wanted) else 1)
    except pint.DimensionalityError:
        return f"unit '{unit}' is not convertible to {target}"
    return round(float(converted), 6)


def _multiplicative(quantity: Any) -> bool:
    """False for offset units (degrees Celsius and Fahrenheit), whose quantities cannot be scaled."""
    return bool(quantity._ok_for_muldiv())  # pint's own test for offset units
