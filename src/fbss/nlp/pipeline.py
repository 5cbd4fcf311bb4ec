"""Build the medspaCy pipeline from the rule files, once per process."""

from __future__ import annotations

import re
import warnings
from functools import cache
from typing import Any

from fbss.nlp.rules import NlpRules, default_rules

IGNORED = "ignored"
"""Label of matches that only stop shorter rules claiming the words (`ignore:` in nlp_targets.yaml)."""


def _quiet() -> None:
    # PyRuSH logs every sentence at DEBUG through loguru; that is noise for a report reader.
    from loguru import logger

    logger.disable("PyRuSH")


def _section_pattern(headers: tuple[str, ...]) -> str:
    """A heading at the start of a line ('FINDINGS:', 'Impression' alone on its line) or after a full stop."""
    words = sorted(headers, key=len, reverse=True)
    body = "|".join(r"\s+".join(re.escape(part) for part in header.split()) for header in words)
    return rf"(?m)(?:^[ \t]*(?:{body})[ \t]*(?::|$)|(?<=\.\s)(?:{body})[ \t]*:)"


def target_rules(rules: NlpRules) -> list[Any]:
    """medspaCy TargetRules, one per phrase and per pattern; the label is the DiagnosticFinding code."""
    from medspacy.ner import TargetRule

    built = []
    for target in rules.targets:
        for phrase in target.phrases:
            built.append(TargetRule(phrase, str(target.code)))
        for number, pattern in enumerate(target.patterns, start=1):
            built.append(TargetRule(f"{target.code} pattern {number}", str(target.code), pattern=pattern))
    built.extend(TargetRule(phrase, IGNORED) for phrase in rules.ignore_phrases)
    for number, pattern in enumerate(rules.ignore_patterns, start=1):
        built.append(TargetRule(f"ignore pattern {number}", IGNORED, pattern=pattern))
    return built


def build_pipeline(rules: NlpRules, *, full: bool = True) -> Any:
    """The reader: sentences, target matcher and ConText; `full` adds the sectionizer and our ConText rules.

    With `full=False` the pipeline is plain `medspacy.load()` (its default ConText rules) plus our targets,
    the baseline the benchmark compares against.
    """
    _quiet()
    import medspacy

    if not full:
        nlp = medspacy.load()
        nlp.get_pipe("medspacy_target_matcher").add(target_rules(rules))
        return nlp
    from medspacy.context import ConTextRule
    from medspacy.section_detection import SectionRule

    import fbss.nlp.sentences  # noqa: F401 - registers the fbss_line_breaks component

    nlp = medspacy.load(medspacy_enable=["medspacy_pyrush"])
    nlp.add_pipe("fbss_line_breaks", after="medspacy_pyrush")
    nlp.add_pipe("medspacy_target_matcher").add(target_rules(rules))
    context = nlp.add_pipe("medspacy_context", config={"rules": None})
    context.add(
        [
            ConTextRule(
                spec.literal,
                spec.category,
                pattern=spec.pattern,
                direction=spec.direction,
                max_scope=spec.max_scope,
            )
            for spec in rules.context
        ]
    )
    sectionizer = nlp.add_pipe("medspacy_sectionizer", config={"rules": None, "span_attrs": None})
    section_rules = []
    for section in rules.sections:
        section_rules.append(SectionRule(section.id, section.id, pattern=_section_pattern(section.headers)))
        for number, pattern in enumerate(section.patterns, start=1):
            section_rules.append(SectionRule(f"{section.id} pattern {number}", section.id, pattern=pattern))
    sectionizer.add(section_rules)
    return nlp


def run(nlp: Any, text: str) -> Any:
    """Process one text. medspaCy's matcher warns on every document that its token-pattern matcher is empty
    (all our rules are phrases or regular expressions); that warning is silenced here and nowhere else."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r"\[W036\]", category=UserWarning)
        return nlp(text)


@cache
def get_pipeline() -> Any:
    """The full pipeline built from the shipped rules; built on first use (about a second) and then reused."""
    return build_pipeline(default_rules())
