"""The leaves that decide a three-valued expression's result; compiling is `findings.compile_expression`."""

from __future__ import annotations

from fbss.case.model import Presence
from fbss.knowledge.models import AnyOf, Expression, Not
from fbss.reasoning.findings import Evaluator, States, compile_expression, evaluate_expression

P, A, U = Presence.present, Presence.absent, Presence.unknown

Compiled = Evaluator
__all__ = ["Compiled", "States", "compile_expression", "leaves"]
_NOT = {P: A, A: P, U: U}


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
