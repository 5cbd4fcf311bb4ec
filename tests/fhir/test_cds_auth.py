"""JWT authentication of CDS Clients: accepted tokens, and 401 with an error body for every bad one."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import jwt
import pytest
from fastapi.testclient import TestClient

from fbss.fhir.cds_auth import AuthConfigError, ReplayStoreError, SqliteReplayCache, issuers_from_env
from fbss.fhir.cds_hooks import CdsSettings
from tests.fhir.conftest import SERVICE, Signer, bundle, cds_client, hook_request

BASE = "http://testserver"


def secured(signer: Signer, **settings: Any) -> TestClient:
    return cds_client(CdsSettings(auth_required=True, issuers=signer.issuers(), **settings))


def call(client: TestClient, token: str | None, path: str = SERVICE) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return client.post(path, json=hook_request(bundle("cauda_equina_after_microdiscectomy")), headers=headers)


def test_a_valid_token_is_accepted(signer: Signer) -> None:
    client = secured(signer)
    assert call(client, signer.token(BASE + SERVICE)).status_code == 200
    discovery = client.get("/cds-services", headers={"Authorization": f"Bearer {signer.token(BASE + '/cds-services')}"})
    assert discovery.status_code == 200


def test_the_audience_can_be_the_public_base_url(signer: Signer) -> None:
    client = secured(signer, audience_base="https://cds.example.org")
    assert call(client, signer.token("https://cds.example.org" + SERVICE)).status_code == 200
    assert call(client, signer.token(BASE + SERVICE)).status_code == 401


def test_audience_as_a_list(signer: Signer) -> None:
    assert call(secured(signer), signer.token([BASE + SERVICE])).status_code == 200  # type: ignore[arg-type]


def _hs256(signer: Signer) -> str:
    now = int(time.time())
    claims = {"iss": signer.iss, "aud": BASE + SERVICE, "exp": now + 60, "iat": now, "jti": "x"}
    return jwt.encode(claims, "shared-secret-of-32-bytes-or-more!!", algorithm="HS256", headers={"kid": signer.kid})


def _none(signer: Signer) -> str:
    now = int(time.time())
    claims = {"iss": signer.iss, "aud": BASE + SERVICE, "exp": now + 60, "iat": now, "jti": "y"}
    return jwt.encode(claims, None, algorithm="none", headers={"kid": signer.kid})


@pytest.mark.parametrize(
    ("make", "fragment"),
    [
        (lambda s: None, "missing Authorization"),
        (lambda s: "not-a-jwt", "malformed"),
        (lambda s: s.token(BASE + SERVICE, lifetime=-120), "expired"),
        (lambda s: s.token(BASE + "/cds-services/other-service"), "audience"),
        (lambda s: s.token(BASE + SERVICE, iss="https://unknown.example.org"), "not trusted"),
        (lambda s: s.token(BASE + SERVICE, jti=None), "jti"),
        (lambda s: s.token(BASE + SERVICE, iat=None), "iat"),
        (lambda s: s.token(BASE + SERVICE, headers={"kid": "other-key"}), "kid"),
        (lambda s: s.token(BASE + SERVICE, headers={"jku": "https://evil.example.org/jwks"}), "jku"),
        (lambda s: s.token(BASE + SERVICE, lifetime=7200), "more than 3600"),
        (lambda s: Signer(iss=s.iss, kid=s.kid).token(BASE + SERVICE), "Signature"),
        (_hs256, "HS256"),
        (_none, "none"),
    ],
)
def test_bad_tokens_get_401(signer: Signer, make: Any, fragment: str) -> None:
    response = call(secured(signer), make(signer))
    assert response.status_code == 401
    body = response.json()
    assert body["error"] == "unauthorized"
    assert fragment.lower() in body["message"].lower()
    assert response.headers["www-authenticate"].startswith("Bearer")


def test_a_token_cannot_be_replayed(signer: Signer) -> None:
    client = secured(signer)
    token = signer.token(BASE + SERVICE)
    assert call(client, token).status_code == 200
    second = call(client, token)
    assert second.status_code == 401 and "replay" in second.json()["message"]


def test_feedback_and_discovery_need_a_token_too(signer: Signer) -> None:
    client = secured(signer)
    assert client.get("/cds-services").status_code == 401
    assert client.post(f"{SERVICE}/feedback", json={"feedback": []}).status_code == 401


def test_without_configured_issuers_everything_is_refused() -> None:
    client = cds_client(CdsSettings(auth_required=True))
    response = client.get("/cds-services")
    assert response.status_code == 401 and "FBSS_CDS_TRUSTED_ISSUERS" in response.json()["message"]


def test_issuers_from_environment_variables(tmp_path: Path, signer: Signer) -> None:
    jwks = tmp_path / "jwks.json"
    jwks.write_text(json.dumps(signer.jwks()))
    pem = tmp_path / "key.pem"
    pem.write_text(signer.public_pem)
    inline = json.dumps({"https://a.example.org": {"jwks_file": str(jwks)}})
    issuers = issuers_from_env(
        {"FBSS_CDS_TRUSTED_ISSUERS": inline, "FBSS_CDS_ISSUER": "https://b.example.org", "FBSS_CDS_PEM_FILE": str(pem)}
    )
    assert set(issuers) == {"https://a.example.org", "https://b.example.org"}
    config = tmp_path / "issuers.json"
    config.write_text(json.dumps({signer.iss: {"pem_file": str(pem)}}))
    settings = CdsSettings.from_env({"FBSS_CDS_TRUSTED_ISSUERS": str(config)})
    client = cds_client(settings)
    assert call(client, signer.token(BASE + SERVICE)).status_code == 200


@pytest.mark.parametrize(
    ("env", "fragment"),
    [
        ({"FBSS_CDS_TRUSTED_ISSUERS": "{not json"}, "not JSON"),
        ({"FBSS_CDS_TRUSTED_ISSUERS": "/no/such/file.json"}, "cannot read"),
        ({"FBSS_CDS_TRUSTED_ISSUERS": '{"https://a": {"pem": "garbage"}}'}, "not a PEM public key"),
        ({"FBSS_CDS_TRUSTED_ISSUERS": '{"https://a": {}}'}, "give one of"),
        ({"FBSS_CDS_TRUSTED_ISSUERS": '{"https://a": {"jwks": {"keys": [{"kty": "EC"}]}}}'}, "JWK"),
        ({"FBSS_CDS_ISSUER": "https://a"}, "FBSS_CDS_JWKS_FILE"),
    ],
)
def test_bad_issuer_configuration_is_named(env: dict[str, str], fragment: str) -> None:
    with pytest.raises(AuthConfigError, match=fragment):
        issuers_from_env(env)


def test_the_replay_cache_can_be_shared_by_worker_processes(signer: Signer, tmp_path: Path) -> None:
    shared = str(tmp_path / "jti.sqlite")
    first, second = secured(signer, replay_db=shared), secured(signer, replay_db=shared)  # two workers, one file
    token = signer.token(BASE + SERVICE)
    assert call(first, token).status_code == 200
    replayed = call(second, token)
    assert replayed.status_code == 401 and "replay" in replayed.json()["message"]
    assert call(second, signer.token(BASE + SERVICE)).status_code == 200


def test_the_shared_replay_cache_forgets_expired_tokens(tmp_path: Path) -> None:
    a, b = SqliteReplayCache(tmp_path / "jti.sqlite", purge_every=2), SqliteReplayCache(tmp_path / "jti.sqlite")
    now = time.time()
    assert a.check_and_add("iss\njti-1", now + 60)
    assert not b.check_and_add("iss\njti-1", now + 60)
    assert a.check_and_add("iss\njti-2", now - 1)  # already expired when recorded
    assert b.check_and_add("iss\njti-2", now + 60)  # so the key is free again


def test_an_unusable_replay_cache_refuses_the_call(signer: Signer, tmp_path: Path) -> None:
    client = secured(signer, replay_db=str(tmp_path / "missing-folder" / "jti.sqlite"))
    response = call(client, signer.token(BASE + SERVICE))
    assert response.status_code == 503 and response.json()["error"] == "unavailable"
    with pytest.raises(ReplayStoreError):
        SqliteReplayCache(tmp_path / "missing-folder" / "jti.sqlite").check_and_add("k", time.time() + 60)


def test_the_replay_cache_file_comes_from_the_environment() -> None:
    assert (
        CdsSettings.from_env({"FBSS_CDS_REPLAY_DB": "/var/lib/fbss/jti.sqlite"}).replay_db == "/var/lib/fbss/jti.sqlite"
    )
    assert CdsSettings.from_env({}).replay_db is None
