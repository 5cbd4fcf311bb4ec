"""Three-valued expressions compiled once into closures, and the leaves that decide a result."""

from __future__ import annotations

from collections.abc import Callable

from fbss.case.model import Presence
from fbss.knowledge.models import AllOf, AnyOf, Expression, Not
from fbss.reasoning.findings import evaluate_expression

P, A, U = Presence.present, Presence.absent, Presence.unknown

States = dict[str, Presence]
Compiled = Callable[[States], Presence]
_NOT = {P: A, A: P, U: U}


def compile_expression(expr: Expression) -> Compiled:
    """The same Kleene logic as `evaluate_expression`, as a closure (no isinstance checks per call)."""
    if isinstance(expr, str):
        key = expr
        return lambda states: states[key]
    if isinstance(expr, AnyOf):
        parts = tuple(compile_expression(p) for p in expr.any_of)

        def any_of(states: States) -> Presence:
            result = A
            for part in parts:
                value = part(states)
                if value is P:
                    return P
                if value is U:
                    result = U
            return result

        return any_of
    if isinstance(expr, AllOf):
        parts = tuple(compile_expression(p) for p in expr.all_of)

        def all_of(states: States) -> Presence:
            result = P
            for part in parts:
                value = part(states)
                if value is A:
                    return A
                if value is U:
                    result = U
            return result

        return all_of
    assert isinstance(expr, Not)
    inner = compile_expression(expr.not_)
    return lambda states: _NOT[inner(states)]


def leaves(expr: Expression, states: States, want: Presence) -> list[str]:
    """The leaf ids that make `expr` take the value `want`: the deciding items (present/absent) or the missing
    ones.
    """
    if isinstance(expr, str):
        return [expr] if states[expr] is want else []
    if isinstance(expr, Not):
        return leaves(expr.not_, states, _NOT[want])
    parts = expr.any_of if isinstance(expr, AnyOf) else expr.all_of
    compiled = [(p, evaluate_expression(p, states)) for p in parts]
    if want is U:
        return [leaf for p, v in compiled if v is U for leaf in leaves(p, states, U)]
    # any_of is present through its present parts, absent through all parts; all_of the other way round
    decisive = P if isinstance(expr, AnyOf) else A
    chosen = [p for p, v in compiled if v is want] if want is decisive else [p for p, _ in compiled]
    return [leaf for p in chosen for leaf in leaves(p, states, want)]
