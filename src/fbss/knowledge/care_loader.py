"""Load and cross-check the care-planning files: tests, treatments, appropriateness, SCS and the plan."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from fbss.case.vocabulary import Modality
from fbss.errors import KnowledgeError
from fbss.knowledge.base import CareKnowledge
from fbss.knowledge.care_models import (
    BUILTIN_CONCEPTS,
    AdviceTable,
    AppropriatenessDoc,
    BurdenWeights,
    CategoryDef,
    CausePath,
    ConceptDef,
    ConceptKind,
    Contraindication,
    FollowUp,
    Modifier,
    NiceCriterion,
    OptionRating,
    Outcome,
    Override,
    PanelCategory,
    PlanDoc,
    PsychosocialFactor,
    Recency,
    Rule,
    Scale,
    ScsDoc,
    ScsGate,
    SharedCaution,
    TestDef,
    TestsDoc,
    TreatmentDef,
)
from fbss.knowledge.evidence import Source
from fbss.knowledge.loader import _entries, _parse, _unique, _where
from fbss.knowledge.models import CauseDef, Cited, FindingDef, RedFlagDef, expression_ids, flag_concept

CARE_FILES = ("tests.yaml", "treatments.yaml", "appropriateness.yaml", "scs.yaml", "plan.yaml")
_EXPRESSION_FIELDS = ("when", "shown_by", "expression", "urgent_if", "applies_if")


def _section(path: Path, document: Any, key: str) -> Any:
    if not isinstance(document, dict) or key not in document:
        raise KnowledgeError(f"{_where(path, document)}: missing section '{key}'")
    return document[key]


def _one(model: type[Any], path: Path, document: Any, key: str) -> Any:
    return _parse(model, path, _section(path, document, key), with_line=False)


def _many(model: type[Any], path: Path, document: Any, key: str, with_line: bool = False) -> list[tuple[Any, Any]]:
    return [(_parse(model, path, raw, with_line=with_line), raw) for raw in _entries(path, document, key)]


def _walk(value: Any, label: str) -> Iterator[tuple[str, Any]]:
    """Every nested model with a label saying where it sits."""
    if isinstance(value, BaseModel):
        yield label, value
        for name in type(value).model_fields:
            child = getattr(value, name)
            if isinstance(child, (BaseModel, tuple)):
                yield from _walk(child, f"{label}.{name}")
    elif isinstance(value, tuple):
        for i, item in enumerate(value):
            ident = getattr(item, "id", None)
            yield from _walk(item, f"{label}[{ident if ident is not None else i}]")


class _Checker:
    """Checks the ids a care entry names against what the knowledge base defines."""

    def __init__(
        self, findings: dict[str, FindingDef], sources: dict[str, Source], red_flags: tuple[RedFlagDef, ...]
    ) -> None:
        self.known = set(findings) | set(BUILTIN_CONCEPTS) | {flag_concept(f.id) for f in red_flags}
        self.sources = sources

    def check(self, entry: BaseModel, where: str) -> None:
        for label, model in _walk(entry, ""):
            at = f"{where}{', ' + label.lstrip('.') if label else ''}"
            if isinstance(model, Cited):
                missing = [s for s in model.sources if s not in self.sources]
                if missing:
                    raise KnowledgeError(f"{at}: unknown source id(s) {missing}; add them to a sources list")
            for name in _EXPRESSION_FIELDS:
                expr = getattr(model, name, None)
                if expr is None or name not in type(model).model_fields:
                    continue
                unknown = [i for i in expression_ids(expr) if i not in self.known]
                if unknown:
                    raise KnowledgeError(f"{at}: '{name}' names unknown finding or concept id(s) {unknown}")


def load_care(
    documents: dict[Path, Any],
    by_name: dict[str, Path],
    findings: dict[str, FindingDef],
    causes: tuple[CauseDef, ...],
    red_flags: tuple[RedFlagDef, ...],
    sources: dict[str, Source],
) -> CareKnowledge:
    """Parse the care-planning files and check every id they use; errors name file, line and entry."""
    for name in CARE_FILES:
        if name not in by_name:
            raise KnowledgeError(f"missing required file {name}")
    cause_ids = {c.id for c in causes}
    flag_ids = {f.id for f in red_flags}
    clash = [flag_concept(f.id) for f in red_flags if flag_concept(f.id) in set(findings) | set(BUILTIN_CONCEPTS)]
    if clash:
        raise KnowledgeError(f"red_flags.yaml: red flag concept id(s) {clash} clash with a finding or built-in concept")
    checker = _Checker(findings, sources, red_flags)

    # ---- appropriateness: concepts first (later files use them) --------------------------------------------
    path = by_name["appropriateness.yaml"]
    doc = documents[path]
    concepts = _many(ConceptDef, path, doc, "concepts", with_line=True)
    _unique((c.id, path, raw) for c, raw in concepts)
    for concept, raw in concepts:
        where = _where(path, raw, concept.id)
        if concept.id in checker.known:
            raise KnowledgeError(f"{where}: concept id '{concept.id}' is already a finding or built-in concept")
        bad = [c for c in concept.causes if c not in cause_ids]
        if bad:
            raise KnowledgeError(f"{where}: unknown cause id(s) {bad}")
        checker.check(concept, where)  # a concept may use only findings and concepts defined above it
        checker.known.add(concept.id)
    categories = _many(CategoryDef, path, doc, "categories", with_line=True)
    seen_categories = [c.id for c, _ in categories]
    if sorted(seen_categories) != sorted(PanelCategory):
        raise KnowledgeError(f"{path.name}: 'categories' must list each of {[c.value for c in PanelCategory]} once")
    modifiers = _many(Modifier, path, doc, "modifiers")
    shared_cautions = _many(SharedCaution, path, doc, "cautions")
    appropriateness = AppropriatenessDoc(
        scale=_one(Scale, path, doc, "scale"),
        red_flag_override=_one(Override, path, doc, "red_flag_override"),
        requirement_caps=_one(Override, path, doc, "requirement_caps"),
        concepts=tuple(c for c, _ in concepts),
        categories=tuple(c for c, _ in categories),
        modifiers=tuple(m for m, _ in modifiers),
        cautions=tuple(c for c, _ in shared_cautions),
    )
    for category, raw in categories:
        checker.check(category, _where(path, raw, category.id.value))

    # ---- tests ---------------------------------------------------------------------------------------------
    path = by_name["tests.yaml"]
    doc = documents[path]
    weights = _one(BurdenWeights, path, doc, "weights")
    tests = _many(TestDef, path, doc, "tests", with_line=True)
    _unique((t.id, path, raw) for t, raw in tests)
    test_ids = {t.id for t, _ in tests}
    for cause in causes:
        if cause.emergency is not None and (bad := [t for t in cause.emergency.tests if t not in test_ids]):
            raise KnowledgeError(f"causes.yaml, cause '{cause.id}': emergency names unknown test(s) {bad}")
    for test, raw in tests:
        where = _where(path, raw, test.id)
        checker.check(test, where)
        bad = [f for f in test.reveals if f not in findings]
        if bad:
            raise KnowledgeError(f"{where}: 'reveals' names unknown finding(s) {bad}")
        bad = [f for f in test.urgent_for if f not in flag_ids]
        if bad:
            raise KnowledgeError(f"{where}: 'urgent_for' names unknown red flag(s) {bad}")
        for contra in test.contraindications:
            if contra.alternative is not None and contra.alternative not in test_ids:
                raise KnowledgeError(
                    f"{where}: contraindication '{contra.id}' names unknown test '{contra.alternative}'"
                )
        if test.modality is not None and test.modality not in Modality.__members__:
            raise KnowledgeError(f"{where}: unknown modality '{test.modality}'")
        if test.study is not None and test.study not in Modality.__members__:
            raise KnowledgeError(f"{where}: unknown study kind '{test.study}'; expected {[m.value for m in Modality]}")
        bad = [t for t in test.includes if t not in test_ids or t == test.id]
        if bad:
            raise KnowledgeError(f"{where}: 'includes' names unknown test(s) {bad}")
    confirmed = {flag for t, _ in tests for flag in t.urgent_for}
    unconfirmed = [f.id for f in red_flags if f.id not in confirmed]
    if unconfirmed:
        raise KnowledgeError(
            f"{path.name}: no test is urgent_for the red flag(s) {unconfirmed}; every flag needs the tests that "
            "confirm it"
        )

    # ---- treatments ----------------------------------------------------------------------------------------
    path = by_name["treatments.yaml"]
    treatments = _many(TreatmentDef, path, documents[path], "treatments", with_line=True)
    _unique((t.id, path, raw) for t, raw in treatments)
    for treatment, raw in treatments:
        where = _where(path, raw, treatment.id)
        checker.check(treatment, where)
        bad = [c for c in treatment.treats if c not in cause_ids]
        if bad:
            raise KnowledgeError(f"{where}: 'treats' names unknown cause(s) {bad}")
        bad = [t for t in treatment.includes if t not in {x.id for x, _ in treatments} or t == treatment.id]
        if bad:
            raise KnowledgeError(f"{where}: 'includes' names unknown treatment(s) {bad}")
        bad = [p for p in treatment.prepare if p not in {x.id for x, _ in treatments} | test_ids or p == treatment.id]
        if bad:
            raise KnowledgeError(f"{where}: 'prepare' names unknown treatment(s) or test(s) {bad}")
    tags = {tag for t, _ in treatments for tag in t.tags} | {c.value for c in PanelCategory}
    treatment_ids = {t.id for t, _ in treatments}
    for flag in red_flags:
        bad = [o for o in flag.definitive if o not in treatment_ids]
        if bad:
            raise KnowledgeError(f"red_flags.yaml, entry '{flag.id}': 'definitive' names unknown option(s) {bad}")
    bad = [t for t in appropriateness.red_flag_override.never_capped if t not in tags]
    if bad:
        raise KnowledgeError(f"appropriateness.yaml: red_flag_override.never_capped names unknown tag(s) {bad}")
    path = by_name["appropriateness.yaml"]
    for modifier, raw in [*modifiers, *shared_cautions]:
        where = _where(path, raw, modifier.id)
        checker.check(modifier, where)
        bad = [a for a in modifier.applies_to if a not in tags]
        if bad:
            raise KnowledgeError(f"{where}: 'applies_to' names no category or treatment tag: {bad}")

    # ---- SCS -----------------------------------------------------------------------------------------------
    path = by_name["scs.yaml"]
    doc = documents[path]
    scs = ScsDoc(
        clinical=_one(OptionRating, path, doc, "clinical"),
        factors=tuple(f for f, _ in _many(PsychosocialFactor, path, doc, "factors")),
        advice=_one(AdviceTable, path, doc, "advice"),
        contraindications=tuple(c for c, _ in _many(Contraindication, path, doc, "contraindications")),
        conditions=tuple(c for c, _ in _many(Contraindication, path, doc, "conditions")),
        nice=tuple(n for n, _ in _many(NiceCriterion, path, doc, "nice")),
        gates=tuple(g for g, _ in _many(ScsGate, path, doc, "gates")),
    )
    checker.check(scs, path.name)

    # ---- plan ----------------------------------------------------------------------------------------------
    path = by_name["plan.yaml"]
    doc = documents[path]
    if not isinstance(doc, dict) or not isinstance(doc.get("grid_options"), int):
        raise KnowledgeError(f"{path.name}: needs 'grid_options', a whole number")
    paths = _many(CausePath, path, doc, "cause_paths", with_line=False)
    seen_causes: set[str] = set()
    for cause_path, raw in paths:
        where = _where(path, raw, cause_path.cause)
        if cause_path.cause not in cause_ids:
            raise KnowledgeError(f"{where}: cause_paths names unknown cause '{cause_path.cause}'")
        if cause_path.cause in seen_causes:
            raise KnowledgeError(f"{where}: cause '{cause_path.cause}' already has a path")
        seen_causes.add(cause_path.cause)
        bad = [o for o in cause_path.options if o not in treatment_ids]
        if bad:
            raise KnowledgeError(f"{where}: options names unknown treatment(s) {bad}")
    plan = PlanDoc(
        follow_up=tuple(f for f, _ in _many(FollowUp, path, doc, "follow_up")),
        outcomes=tuple(o for o, _ in _many(Outcome, path, doc, "outcomes")),
        grid_options=doc["grid_options"],
        cause_paths=tuple(c for c, _ in paths),
    )
    checker.check(plan, path.name)

    # every rule id is unique across the care files, so explanations can name rules unambiguously
    rule_places: dict[str, str] = {}
    containers: list[tuple[str, BaseModel]] = [
        ("appropriateness.yaml", appropriateness),
        ("scs.yaml", scs),
        *((f"treatments.yaml entry '{t.id}'", t) for t, _ in treatments),
    ]
    for place, container in containers:
        for _, model in _walk(container, ""):
            if isinstance(model, (Rule, Contraindication)):
                if model.id in rule_places:
                    raise KnowledgeError(f"{place}: rule id '{model.id}' is already used in {rule_places[model.id]}")
                rule_places[model.id] = place

    return CareKnowledge(
        tests=TestsDoc(
            weights=weights,
            tests=tuple(t for t, _ in tests),
            recorded_within=_one(Recency, by_name["tests.yaml"], documents[by_name["tests.yaml"]], "recorded_within"),
        ),
        treatments=tuple(t for t, _ in treatments),
        appropriateness=appropriateness,
        scs=scs,
        plan=plan,
    )


def concept_kinds(care: CareKnowledge) -> dict[str, ConceptKind]:
    """Concept id -> its kind, for renderers and tests."""
    return {c.id: c.kind for c in care.appropriateness.concepts}
