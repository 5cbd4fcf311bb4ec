"""In-process clients for the web app (Starlette's TestClient), signed in as a clinician, an admin or nobody."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def csrf_of(client: TestClient, path: str = "/login") -> str:
    page = client.get(path)
    found = CSRF.search(page.text)
    assert found, f"no CSRF token on {path}"
    return found.group(1)


def sign_in(client: TestClient, username: str, password: str) -> TestClient:
    token = csrf_of(client)
    response = client.post("/login", data={"csrf": token, "username": username, "password": password, "next": ""})
    assert response.status_code == 303, response.text[:500]
    return client
