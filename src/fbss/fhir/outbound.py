"""The one door for requests to an EHR: FHIR queries of the CDS Hooks service and of the SMART launch, SMART
discovery and the token exchange all go through `send`, so the outbound policy applies to each in one place."""

from __future__ import annotations

from typing import Any

import httpx


async def send(client: httpx.AsyncClient, method: str, url: str, **kwargs: Any) -> httpx.Response:
    """One outbound request (no redirects are followed: the client is built with follow_redirects=False)."""
    return await client.request(method, url, **kwargs)
