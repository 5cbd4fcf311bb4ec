"""Report text in, proposed findings out: targets, ConText flags, section, level, side, modality, contrast."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any, TypeVar

from fbss.case.vocabulary import DiagnosticFinding, Modality
from fbss.nlp.anatomy import (
    LevelMention,
    SideMention,
    combined_side,
    find_levels,
    find_sides,
    grouped,
    level_headings,
)
from fbss.nlp.chunks import Chunk, chunks
from fbss.nlp.model import Contrast, Extraction, ProposedFinding, Side, TextSpan
from fbss.nlp.pipeline import IGNORED, get_pipeline, run
from fbss.nlp.rules import NlpRules, default_rules
from fbss.nlp.text import check_text

BODY = "body"
"""Section name for text before the first heading (reports without headings are read whole)."""

T = TypeVar("T")
_CONTRAST_MODALITIES = frozenset({Modality.mri, Modality.ct})
_CLAUSE_BREAK = re.compile(r"[;]")
_COORDINATED = re.compile(r"^[\s,]*(?:and|or|nor|and/or|/|,)?[\s,]*(?:\w+\s+){0,3}$", re.IGNORECASE)
_PREFIX_GAP = re.compile(
    r"^[\s-]*(?:(?!(?:and|or|with|at|of|on|to|from|in|by|due|for|the|a|an|is|are|was|were|causing|compressing"
    r"|producing|resulting|which|that)\b)[A-Za-z-]+[\s-]+){0,3}$",
    re.IGNORECASE,
)
_BLANK_LINE = re.compile(r"\n[ \t]*\n")
_BREAK_IN_SCOPE = re.compile(r",|\band\b|\bwith\b", re.IGNORECASE)
_FLAGS = {
    "NEGATED_EXISTENCE": "negated",
    "POSSIBLE_EXISTENCE": "uncertain",
    "HYPOTHETICAL": "hypothetical",
    "HISTORICAL": "historical",
}


def extract(text: str) -> Extraction:
    """Read one imaging, electrodiagnostic or operative report; every finding mention is returned, flagged.

    Raises ReportTextError if the text is larger than the size limit, binary, or holds invalid characters.
    """
    text = check_text(text)
    rules = default_rules()
    if not text.strip():
        return Extraction(modality=None, contrast=None, findings=(), sections=(), characters=len(text))
    pieces = chunks(text)
    if len(pieces) == 1:
        return read_doc(run(get_pipeline(), text), text, rules)
    return _read_pieces(text, pieces, rules)


def _read_pieces(text: str, pieces: list[Chunk], rules: NlpRules) -> Extraction:
    """A long report read piece by piece (linear time, see `fbss.nlp.chunks`), each piece preceded by the section
    heading in force where it starts; spans are given in the whole text."""
    findings: list[ProposedFinding] = []
    sections: list[str] = []
    study: tuple[Modality | None, Contrast | None] | None = None
    heading = ""
    for piece in pieces:
        prefix = f"{heading}\n" if heading else ""
        doc = run(get_pipeline(), prefix + text[piece.start : piece.end])
        part = read_doc(doc, doc.text, rules)
        study = study or (part.modality, part.contrast)
        shift = piece.start - len(prefix)
        for finding in part.findings:
            if finding.span.start >= len(prefix):
                span = TextSpan(finding.span.start + shift, finding.span.end + shift, finding.span.text)
                findings.append(replace(finding, span=span))
        sections += part.sections
        found = doc._.sections
        if found and found[-1].category:
            start, end = found[-1].title_span
            heading = doc[start:end].text.strip() or heading
    modality, contrast = study or (None, None)
    ordered = tuple(sorted(_withdraw_normal(findings, rules), key=lambda f: (f.span.start, f.code)))
    return Extraction(
        modality=modality,
        contrast=contrast,
        findings=ordered,
        sections=tuple(dict.fromkeys(sections)),
        characters=len(text),
    )


def present_findings(extraction: Extraction) -> tuple[ProposedFinding, ...]:
    """Only the findings stated as present: not negated, uncertain, hypothetical or historical."""
    return tuple(finding for finding in extraction.findings if finding.affirmed)


@dataclass(frozen=True, slots=True)
class _Sentence:
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class _Section:
    name: str
    start: int
    end: int


def read_doc(doc: Any, text: str, rules: NlpRules) -> Extraction:
    """Turn a processed medspaCy Doc into an Extraction (the part of `extract` after the pipeline)."""
    sections = _sections(doc, text)
    modality, contrast = _study(text, sections, rules)
    levels, sides, headings = find_levels(text), find_sides(text), level_headings(text)
    ents = [ent for ent in doc.ents if ent.label_ != IGNORED]
    findings: list[ProposedFinding] = []
    for index, ent in enumerate(ents):
        sentence = _clause(ent, text)
        section = _section_at(sections, ent.start_char)
        own_levels = _levels_for(index, ents, sentence, levels, headings, section, text)
        side = _side_for(index, ents, sentence, sides, text)
        flags = {name: False for name in _FLAGS.values()}
        for modifier in ent._.modifiers:
            flag = _FLAGS.get(modifier.category)
            if flag and _modifier_applies(modifier, ent, doc, text, own_levels, side, levels, sides):
                flags[flag] = True
        if section.name in rules.unread_sections:
            flags["historical"] = True
        rule = ent._.target_rule.literal if ent._.target_rule is not None else ""
        findings.append(
            ProposedFinding(
                code=DiagnosticFinding(ent.label_),
                span=TextSpan(ent.start_char, ent.end_char, ent.text),
                section=section.name,
                levels=own_levels,
                side=side,
                modality=_sentence_modality(text[sentence.start : sentence.end], rules) or modality,
                contrast=contrast,
                rule=rule,
                **flags,
            )
        )
    findings = _derive(findings, text, ents, rules)
    findings = _withdraw_normal(findings, rules)
    ordered = tuple(sorted(findings, key=lambda f: (f.span.start, f.code)))
    names = tuple(dict.fromkeys(section.name for section in sections))
    unread = _not_understood(doc, text, sections, rules)
    return Extraction(
        modality=modality,
        contrast=contrast,
        findings=ordered,
        sections=names,
        characters=len(text),
        not_understood=unread,
    )


_HEADING = re.compile(r"^\s*[A-Za-z][A-Za-z /&-]{0,40}:\s*")
_WORDS = re.compile(r"[A-Za-z]{2,}")


def _not_understood(doc: Any, text: str, sections: list[_Section], rules: NlpRules) -> tuple[TextSpan, ...]:
    """Sentences of the sections that hold results in which no target matched (not even one that is ignored)."""
    covered = [(ent.start_char, ent.end_char) for ent in doc.ents]
    found = []
    for sent in doc.sents:
        section = _section_at(sections, sent.start_char)
        if section.name in rules.unread_sections:
            continue
        start, end = sent.start_char, sent.end_char
        if any(s < end and e > start for s, e in covered):
            continue
        body = _HEADING.sub("", text[start:end], count=1).strip()
        if len(_WORDS.findall(body)) < 2 or body.isupper():  # a heading or a title line, not a statement
            continue
        stripped = text[start:end].strip()
        offset = text.index(stripped, start)
        found.append(TextSpan(offset, offset + len(stripped), stripped))
    return tuple(found)


# --- sections and study -------------------------------------------------------------------------------------


def _sections(doc: Any, text: str) -> list[_Section]:
    found: list[_Section] = []
    for section in doc._.sections:
        start_token, _ = section.title_span
        _, end_token = section.body_span
        start = doc[start_token].idx if start_token < len(doc) else len(text)
        end = doc[end_token - 1].idx + len(doc[end_token - 1].text) if end_token > 0 else 0
        found.append(_Section(section.category or BODY, start, end))
    if not found or found[0].start > 0:
        found.insert(0, _Section(BODY, 0, found[0].start if found else len(text)))
    return found


def _section_at(sections: list[_Section], position: int) -> _Section:
    current = sections[0]
    for section in sections:
        if section.start <= position:
            current = section
    return current


def _heading_text(text: str) -> str:
    lines = [line for line in text.splitlines() if line.strip()]
    return "\n".join(lines[:3])


def _study(text: str, sections: list[_Section], rules: NlpRules) -> tuple[Modality | None, Contrast | None]:
    heading = _heading_text(text)
    technique = " ".join(text[s.start : s.end] for s in sections if s.name in ("technique", BODY))
    modality = _first(rules.modalities, heading) or _first(rules.modalities, text)
    contrast = _first(rules.contrasts, heading + "\n" + technique) or _first(rules.contrasts, text)
    if modality not in _CONTRAST_MODALITIES:
        contrast = None
    return modality, contrast


def _first(candidates: tuple[tuple[T, re.Pattern[str]], ...], text: str) -> T | None:
    for value, pattern in candidates:
        if pattern.search(text):
            return value
    return None


def _sentence_modality(sentence: str, rules: NlpRules) -> Modality | None:
    # "On flexion-extension views, ..." names the study a finding comes from inside a combined report.
    modality = _first(rules.modalities, sentence)
    return modality if modality not in (None, Modality.other) else None


# --- where a finding is: clause, levels, side ---------------------------------------------------------------


def _clause(ent: Any, text: str) -> _Sentence:
    """The sentence around a mention, cut at semicolons."""
    sent = ent.sent
    start, end = sent.start_char, sent.end_char
    for match in _CLAUSE_BREAK.finditer(text, start, end):
        if match.start() < ent.start_char:
            start = match.end()
        elif match.start() >= ent.end_char:
            end = match.start()
            break
    return _Sentence(start, end)


def _within(mentions: list[Any], start: int, end: int) -> list[Any]:
    return [m for m in mentions if m.start >= start and m.end <= end]


def _levels_for(
    index: int,
    ents: list[Any],
    clause: _Sentence,
    levels: list[LevelMention],
    headings: list[LevelMention],
    section: _Section,
    text: str,
) -> tuple[str, ...]:
    ent = ents[index]
    previous_end = max([clause.start] + [e.end_char for e in ents[:index] if e.end_char <= ent.start_char])
    next_start = min([clause.end] + [e.start_char for e in ents[index + 1 :] if e.start_char >= ent.end_char])
    inside = _within(levels, ent.start_char, ent.end_char)
    if inside:
        return grouped(inside, text)
    prefix = _prefix_levels(levels, previous_end, ent.start_char, text)
    if prefix:
        return prefix
    following = [e for e in ents[index + 1 :] if e.start_char >= ent.end_char]
    # a level written just before the next mention ("... and L5-S1 epidural fibrosis") belongs to that mention
    after = [
        m
        for m in _within(levels, ent.end_char, next_start)
        if not (
            following
            and following[0].start_char - m.end <= 30
            and _PREFIX_GAP.match(text[m.end : following[0].start_char])
        )
    ]
    if after:
        return grouped(after, text)
    before = _within(levels, previous_end, ent.start_char)
    if before:
        return grouped(before, text, from_end=True)
    # "pseudarthrosis or screw loosening at L4-5": coordinated mentions share the level written after them.
    for following in ents[index + 1 :]:
        if following.start_char >= clause.end:
            break
        gap = text[ents[index].end_char : following.start_char]
        if not _COORDINATED.match(gap) and "," not in gap:
            break
        tail_end = min([clause.end] + [e.start_char for e in ents if e.start_char >= following.end_char])
        shared = _within(levels, following.end_char, tail_end)
        if shared:
            return grouped(shared, text)
    earlier = _within(levels, clause.start, ent.start_char)
    if earlier:
        return grouped(earlier, text, from_end=True)
    # "L4-5: Mild facet arthropathy. No stenosis." - a level heading holds until the next one or a blank line.
    in_force = [h for h in headings if section.start <= h.start < ent.start_char]
    if in_force and not _BLANK_LINE.search(text, in_force[-1].end, ent.start_char):
        return in_force[-1].levels
    return ()


def _prefix_levels(levels: list[LevelMention], start: int, ent_start: int, text: str) -> tuple[str, ...]:
    """Levels written just before a mention, with at most a few adjectives between: 'left L4-5 foraminal'."""
    candidates = [m for m in _within(levels, start, ent_start) if ent_start - m.end <= 30]
    if candidates and _PREFIX_GAP.match(text[candidates[-1].end : ent_start]):
        return grouped(_within(levels, start, ent_start), text, from_end=True)
    return ()


def _side_for(index: int, ents: list[Any], clause: _Sentence, sides: list[SideMention], text: str) -> Side | None:
    ent = ents[index]
    previous_end = max([clause.start] + [e.end_char for e in ents[:index] if e.end_char <= ent.start_char])
    next_start = min([clause.end] + [e.start_char for e in ents[index + 1 :] if e.start_char >= ent.end_char])
    inside = _within(sides, ent.start_char, ent.end_char)
    if inside:
        return combined_side(inside)
    before = _within(sides, max(previous_end, ent.start_char - 30), ent.start_char)
    if before:
        return combined_side(_run(before, text, from_end=True))
    after = _within(sides, ent.end_char, next_start)
    if after:
        return combined_side(_run(after, text))
    return None


def _run(mentions: list[SideMention], text: str, *, from_end: bool = False) -> list[SideMention]:
    ordered = list(reversed(mentions)) if from_end else list(mentions)
    run = [ordered[0]]
    for mention in ordered[1:]:
        left, right = (mention, run[-1]) if from_end else (run[-1], mention)
        if not re.fullmatch(r"[\s,]*(?:and|or|&)?\s*", text[left.end : right.start]):
            break
        run.append(mention)
    return run


# --- ConText modifiers on the other side or level -----------------------------------------------------------


def _modifier_applies(
    modifier: Any,
    ent: Any,
    doc: Any,
    text: str,
    own_levels: tuple[str, ...],
    own_side: Side | None,
    levels: list[LevelMention],
    sides: list[SideMention],
) -> bool:
    """False when the modifier speaks of another side or level than the finding.

    "Foraminal stenosis is severe on the right and absent on the left": "absent" belongs to the left side, so
    it must not negate the right-sided stenosis. The side or level named right after a following modifier, or
    after a clause break between a preceding modifier and the finding, is compared with the finding's own.
    """
    start_token, end_token = modifier.modifier_span
    mod_start = doc[start_token].idx
    mod_end = doc[end_token - 1].idx + len(doc[end_token - 1].text)
    if mod_start >= ent.end_char:
        stop = _clause_stop(text, mod_end)
        named_sides, named_levels = _within(sides, mod_end, stop), _within(levels, mod_end, stop)
    else:
        gap = text[mod_end : ent.start_char]
        breaks = list(_BREAK_IN_SCOPE.finditer(gap))
        if not breaks:
            return True
        first_break = mod_end + breaks[0].start()
        named_sides, named_levels = (
            _within(sides, mod_end, first_break),
            _within(levels, mod_end, first_break),
        )
    if own_side is not None and own_side is not Side.bilateral and named_sides:
        other = combined_side(named_sides)
        if other is not None and other is not Side.bilateral and other != own_side:
            return False
    if own_levels and named_levels:
        named = {level for mention in named_levels for level in mention.levels}
        if not named & set(own_levels) and not _shares_vertebra(named, own_levels):
            return False
    return True


def _clause_stop(text: str, position: int) -> int:
    match = re.compile(r"[,.;\n]").search(text, position)
    return match.start() if match else len(text)


def _shares_vertebra(named: set[str], own: tuple[str, ...]) -> bool:
    single_named = {n for n in named if "-" not in n}
    single_own = {o for o in own if "-" not in o}
    return any(v in o.split("-") for v in single_named for o in own) or any(
        v in n.split("-") for v in single_own for n in named
    )


# --- derived findings and the "post-operative changes only" rule --------------------------------------------


def _derive(findings: list[ProposedFinding], text: str, ents: list[Any], rules: NlpRules) -> list[ProposedFinding]:
    extra: list[ProposedFinding] = []
    for finding, ent in zip(findings, ents, strict=True):
        sentence = text[ent.sent.start_char : ent.sent.end_char]
        for rule in rules.derived:
            if finding.code in rule.sources and rule.when.search(sentence):
                extra.append(replace(finding, code=rule.code, rule=f"{finding.rule} -> {rule.code}"))
    present = {(f.code, f.span.start) for f in findings}
    return findings + [f for f in extra if (f.code, f.span.start) not in present]


def _withdraw_normal(findings: list[ProposedFinding], rules: NlpRules) -> list[ProposedFinding]:
    # A suspected complication is enough: "post-operative changes only" must not reassure when one is raised.
    complication = any(
        f.code in rules.postoperative_incompatible and not (f.negated or f.historical or f.hypothetical)
        for f in findings
    )
    if not complication:
        return findings
    return [f for f in findings if f.code != rules.postoperative_code]
