"""Empty, garbage, huge and non-UTF-8 input: a clear ReportTextError or an empty result, never a crash."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fbss.errors import FbssError
from fbss.nlp import DEFAULT_MAX_CHARS, Extraction, ReportTextError, decode_report, extract


@pytest.mark.parametrize("text", ["", "   ", "\n\n\t"])
def test_empty_text_gives_empty_result(text: str) -> None:
    extraction = extract(text)
    assert extraction.findings == () and extraction.modality is None


def test_one_megabyte_is_refused_with_the_limit_named() -> None:
    huge = "No recurrent disc herniation. " * (1_048_576 // 30 + 1)
    with pytest.raises(ReportTextError, match=r"100,000-character limit"):
        extract(huge)
    with pytest.raises(ReportTextError, match="limit"):
        decode_report(huge.encode())


def test_text_at_the_limit_is_read() -> None:
    sentence = "Mild facet arthropathy at L4-5. "
    text = (sentence * (DEFAULT_MAX_CHARS // len(sentence)))[:DEFAULT_MAX_CHARS]
    assert len(extract(text).findings) > 100


def test_limit_is_configurable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FBSS_NLP_MAX_CHARS", "50")
    with pytest.raises(ReportTextError, match="50-character limit"):
        extract("x" * 51)
    monkeypatch.setenv("FBSS_NLP_MAX_CHARS", "lots")
    with pytest.raises(ReportTextError, match="FBSS_NLP_MAX_CHARS"):
        extract("fine")


def test_latin1_bytes_are_refused_with_the_position() -> None:
    with pytest.raises(ReportTextError, match=r"not UTF-8 text \(byte 0xe8 at position 5 is invalid\)"):
        decode_report("Discrète fibrosis".encode("latin-1"))


def test_utf8_with_bom_is_read() -> None:
    assert decode_report("\ufeffNo fracture.".encode()) == "No fracture."


def test_binary_bytes_are_refused() -> None:
    with pytest.raises(ReportTextError, match="NUL bytes"):
        decode_report(b"%PDF-1.7\x00\x01\x02")


def test_control_characters_are_refused() -> None:
    with pytest.raises(ReportTextError, match="control characters"):
        extract("\x01\x02\x03\x04abc")


def test_lone_surrogate_is_refused() -> None:
    with pytest.raises(ReportTextError, match="surrogate"):
        extract("bad \udce9 text")


def test_non_string_is_refused() -> None:
    with pytest.raises(ReportTextError, match="must be a str"):
        extract(b"bytes")  # type: ignore[arg-type]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=400))
def test_any_text_gives_a_result_or_a_report_text_error(text: str) -> None:
    try:
        result = extract(text)
    except ReportTextError:
        return
    assert isinstance(result, Extraction)
    for finding in result.findings:
        assert text[finding.span.start : finding.span.end] == finding.span.text


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=300))
def test_any_bytes_give_a_result_or_a_report_text_error(data: bytes) -> None:
    try:
        extract(decode_report(data))
    except FbssError as exc:
        assert isinstance(exc, ReportTextError)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [
                "No",
                "L4-5",
                "left",
                "screw",
                "lucency",
                "fracture",
                ",",
                ";",
                ".",
                "\n",
                "FINDINGS:",
                "not",
                "possible",
                "stenosis",
                "L5/S1",
                "T2",
                "cannot be excluded",
                "IMPRESSION:",
                "at",
                "and",
                "recurrent",
                "herniation",
            ]
        ),
        max_size=60,
    )
)
def test_report_like_word_salad_never_crashes(words: list[str]) -> None:
    text = " ".join(words)
    for finding in extract(text).findings:
        assert text[finding.span.start : finding.span.end] == finding.span.text
