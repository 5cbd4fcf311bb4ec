"""How the FHIR outputs and the CDS cards cite the knowledge base's sources: a link, a citation line, a Provenance."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from fbss.knowledge.base import KnowledgeBase

URI = "urn:ietf:rfc:3986"  # an Identifier whose value is a URI
NO_SOURCE = "expert estimate, no published source"


def source_url(source_id: str, kb: KnowledgeBase) -> str | None:
    """A link to a cited source: its URL, or its DOI as a resolver link."""
    source = kb.sources.get(source_id)
    if source is None:
        return None
    if source.url:
        return source.url
    return f"https://doi.org/{source.doi}" if source.doi else None


def citations(ids: Iterable[str], kb: KnowledgeBase) -> str:
    """The citations of source ids, '; '-separated, each once, in order."""
    known = [kb.sources[i].citation for i in dict.fromkeys(ids) if i in kb.sources]
    return "; ".join(known) or NO_SOURCE


def source_entities(ids: Iterable[str], kb: KnowledgeBase) -> list[dict[str, Any]]:
    """Provenance.entity entries naming cited sources: the citation as display, the link as a URI identifier."""
    entities = []
    for sid in dict.fromkeys(ids):
        source = kb.sources.get(sid)
        if source is None:
            continue
        url = source_url(sid, kb)
        what: dict[str, Any] = {"display": source.citation}
        if url:
            what = {"identifier": {"system": URI, "value": url}, **what}
        entities.append({"role": "source", "what": what})
    return entities
