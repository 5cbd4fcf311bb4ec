"""Report text -> findings: imaging, EMG and operative reports read with medspaCy and ConText."""

from fbss.nlp.errors import ReportTextError
from fbss.nlp.extract import extract, present_findings
from fbss.nlp.model import Contrast, Extraction, ProposedFinding, Side, TextSpan
from fbss.nlp.text import DEFAULT_MAX_CHARS, decode_report

__all__ = [
    "DEFAULT_MAX_CHARS",
    "Contrast",
    "Extraction",
    "ProposedFinding",
    "ReportTextError",
    "Side",
    "TextSpan",
    "decode_report",
    "extract",
    "present_findings",
]
