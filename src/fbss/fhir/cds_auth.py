"""Authenticate CDS Clients by the signed JWT bearer token CDS Hooks 2.0 prescribes ("Trusting CDS Clients").

Checks: an asymmetric algorithm (never `none` or HMAC), `typ` JWT and a `kid`; a trusted `iss` whose keys are
configured out of band (a JWK Set or a PEM public key; `jku` URLs are never fetched, only checked against an allow
list); a valid signature; `aud` equal to the exact endpoint URL; `exp`, `iat` and `jti` present; `exp` not passed;
a `jti` not seen before (replay).

The replay check remembers each `jti` until its token expires: in the process's memory by default (`ReplayCache`), or
in a SQLite file that every worker process of one host shares (`SqliteReplayCache`, FBSS_CDS_REPLAY_DB; `fbss cds
serve --workers N` sets one up by itself).
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import jwt
from jwt import PyJWK, PyJWKSet
from jwt.exceptions import InvalidTokenError, PyJWKError, PyJWKSetError

from fbss.errors import FbssError

ASYMMETRIC = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA")
MAX_JTI = 256
MAX_LIFETIME_SECONDS = 3600  # a CDS Hooks token is for one call: refuse ones valid for longer than an hour


class AuthError(FbssError):
    """A missing, malformed, untrusted or expired client token: answered with 401."""


class ReplayStoreError(FbssError):
    """The shared replay cache cannot be read or written: the call is refused (503), never let through."""


class AuthConfigError(FbssError):
    """The trusted-issuer configuration cannot be read: the message names the variable or file."""


@dataclass(frozen=True)
class TrustedIssuer:
    """One CDS Client: its `iss`, its public keys by `kid` (or one PEM key for any kid), allowed `jku` URLs."""

    iss: str
    keys: Mapping[str, Any] = field(default_factory=dict)
    pem_key: Any = None
    jku: tuple[str, ...] = ()

    def key_for(self, kid: str) -> Any:
        if kid in self.keys:
            return self.keys[kid]
        if self.pem_key is not None:
            return self.pem_key
        raise AuthError(f"no key with kid '{kid}' is configured for issuer {self.iss}")


def _load_jwks(data: Any, where: str) -> dict[str, Any]:
    try:
        key_set = PyJWKSet.from_dict(data) if isinstance(data, dict) and "keys" in data else None
        keys = key_set.keys if key_set else [PyJWK.from_dict(data)]
    except (PyJWKError, PyJWKSetError, TypeError, ValueError) as exc:
        raise AuthConfigError(f"{where}: not a usable JWK Set ({exc})") from None
    found = {}
    for key in keys:
        if not key.key_id:
            raise AuthConfigError(f"{where}: every key needs a 'kid'")
        found[key.key_id] = key.key
    return found


def _load_pem(text: str, where: str) -> Any:
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    try:
        return load_pem_public_key(text.encode())
    except ValueError as exc:
        raise AuthConfigError(f"{where}: not a PEM public key ({exc})") from None


def _read(path: str, where: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise AuthConfigError(f"{where}: cannot read {path} ({exc.strerror})") from None


def parse_issuers(data: Any, where: str) -> dict[str, TrustedIssuer]:
    """{iss: {"jwks": {...}} | {"jwks_file": path} | {"pem": text} | {"pem_file": path}, optional "jku": [...]}."""
    if not isinstance(data, dict):
        raise AuthConfigError(f"{where}: expected a JSON object mapping each issuer to its keys")
    issuers = {}
    for iss, spec in data.items():
        if not isinstance(spec, dict):
            raise AuthConfigError(f"{where}: issuer {iss}: expected an object with jwks, jwks_file, pem or pem_file")
        here = f"{where}, issuer {iss}"
        keys: dict[str, Any] = {}
        pem = None
        if "jwks" in spec:
            keys = _load_jwks(spec["jwks"], here)
        elif "jwks_file" in spec:
            try:
                keys = _load_jwks(json.loads(_read(spec["jwks_file"], here)), here)
            except json.JSONDecodeError as exc:
                raise AuthConfigError(f"{here}: {spec['jwks_file']} is not JSON ({exc})") from None
        elif "pem" in spec:
            pem = _load_pem(spec["pem"], here)
        elif "pem_file" in spec:
            pem = _load_pem(_read(spec["pem_file"], here), here)
        else:
            raise AuthConfigError(f"{here}: give one of jwks, jwks_file, pem, pem_file")
        jku = spec.get("jku", [])
        issuers[iss] = TrustedIssuer(iss, keys, pem, tuple(jku) if isinstance(jku, list) else (str(jku),))
    return issuers


def issuers_from_env(env: Mapping[str, str] | None = None) -> dict[str, TrustedIssuer]:
    """FBSS_CDS_TRUSTED_ISSUERS (inline JSON or a path to a JSON file), plus the single-issuer shortcut
    FBSS_CDS_ISSUER with FBSS_CDS_JWKS_FILE or FBSS_CDS_PEM_FILE."""
    env = os.environ if env is None else env
    issuers: dict[str, TrustedIssuer] = {}
    raw = env.get("FBSS_CDS_TRUSTED_ISSUERS", "").strip()
    if raw:
        text = raw if raw.startswith("{") else _read(raw, "FBSS_CDS_TRUSTED_ISSUERS")
        try:
            issuers.update(parse_issuers(json.loads(text), "FBSS_CDS_TRUSTED_ISSUERS"))
        except json.JSONDecodeError as exc:
            raise AuthConfigError(f"FBSS_CDS_TRUSTED_ISSUERS: not JSON ({exc})") from None
    single = env.get("FBSS_CDS_ISSUER", "").strip()
    if single:
        spec: dict[str, Any] = {}
        if env.get("FBSS_CDS_JWKS_FILE"):
            spec["jwks_file"] = env["FBSS_CDS_JWKS_FILE"]
        elif env.get("FBSS_CDS_PEM_FILE"):
            spec["pem_file"] = env["FBSS_CDS_PEM_FILE"]
        else:
            raise AuthConfigError("FBSS_CDS_ISSUER needs FBSS_CDS_JWKS_FILE or FBSS_CDS_PEM_FILE")
        issuers.update(parse_issuers({single: spec}, "FBSS_CDS_ISSUER"))
    return issuers


class ReplayStore(Protocol):
    def check_and_add(self, key: str, expires: float) -> bool:
        """True if the key is new (and records it until `expires`, a Unix time); False for a replay."""
        ...


class ReplayCache:
    """jti values seen, kept in this process's memory until their token expires (bounded).

    Per process: with several worker processes a replayed token could reach a worker that has not seen it; use
    SqliteReplayCache for those.
    """

    def __init__(self, limit: int = 100_000) -> None:
        self._seen: dict[str, float] = {}
        self._limit = limit
        self._lock = threading.Lock()

    def check_and_add(self, key: str, expires: float) -> bool:
        """True if the key is new (and records it); False for a replay."""
        now = time.time()
        with self._lock:
            if len(self._seen) >= self._limit:
                self._seen = {k: e for k, e in self._seen.items() if e > now}
                if len(self._seen) >= self._limit:
                    raise AuthError("too many live tokens; try again shortly")
            if key in self._seen and self._seen[key] > now:
                return False
            self._seen[key] = expires
            return True


class SqliteReplayCache:
    """jti values seen, kept in a SQLite file until their token expires, shared by every process that opens it.

    One write per call (WAL journal, no fsync: the file only has to outlive a token, a minute or so, not a crash).
    Expired rows are purged every `purge_every` calls. Any SQLite error refuses the call (ReplayStoreError).
    """

    def __init__(self, path: str | os.PathLike[str], purge_every: int = 1000) -> None:
        self.path = str(path)
        self._purge_every = purge_every
        self._local = threading.local()  # a SQLite connection belongs to the thread that opened it

    def _connection(self) -> sqlite3.Connection:
        db: sqlite3.Connection | None = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(self.path, timeout=5.0, isolation_level=None)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=OFF")
            db.execute("CREATE TABLE IF NOT EXISTS jti (key TEXT PRIMARY KEY, expires REAL NOT NULL) WITHOUT ROWID")
            self._local.db = db
            self._local.calls = 0
        return db

    def check_and_add(self, key: str, expires: float) -> bool:
        now = time.time()
        try:
            db = self._connection()
            # a new key is inserted; a key whose token has expired is taken over; a live key is left alone
            cursor = db.execute(
                "INSERT INTO jti (key, expires) VALUES (?, ?) "
                "ON CONFLICT (key) DO UPDATE SET expires = excluded.expires WHERE jti.expires <= ?",
                (key, expires, now),
            )
            new = cursor.rowcount == 1
            self._local.calls += 1
            if self._local.calls % self._purge_every == 0:
                db.execute("DELETE FROM jti WHERE expires <= ?", (now,))
        except sqlite3.Error as exc:
            raise ReplayStoreError(f"the replay cache {self.path} cannot be used ({exc})") from None
        return new


def replay_store(path: str | None) -> ReplayStore:
    """The shared SQLite replay cache at `path`, or a per-process one when no path is given."""
    return SqliteReplayCache(path) if path else ReplayCache()


@dataclass
class TokenVerifier:
    issuers: Mapping[str, TrustedIssuer]
    algorithms: tuple[str, ...] = ASYMMETRIC
    leeway_seconds: int = 30
    replay: ReplayStore = field(default_factory=ReplayCache)

    def verify(self, authorization: str | None, audience: str) -> dict[str, Any]:
        """The verified claims of `Authorization: Bearer <JWT>` for the endpoint URL `audience`; AuthError if not."""
        if not authorization:
            raise AuthError("missing Authorization header; send 'Authorization: Bearer <JWT>'")
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise AuthError("the Authorization header must be 'Bearer <JWT>'")
        token = token.strip()
        try:
            header = jwt.get_unverified_header(token)
            unverified = jwt.decode(token, options={"verify_signature": False})
        except InvalidTokenError as exc:
            raise AuthError(f"malformed token ({exc})") from None
        alg = header.get("alg")
        if alg not in self.algorithms:
            raise AuthError(f"algorithm {alg!r} is not accepted; use an asymmetric one such as ES384 or RS384")
        if str(header.get("typ", "")).upper() != "JWT":
            raise AuthError("token header 'typ' must be 'JWT'")
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise AuthError("token header 'kid' is required")
        iss = unverified.get("iss")
        issuer = self.issuers.get(iss) if isinstance(iss, str) else None
        if issuer is None:
            raise AuthError(f"issuer {iss!r} is not trusted")
        jku = header.get("jku")
        if jku is not None and jku not in issuer.jku:
            raise AuthError(f"jku {jku!r} is not on the allow list for issuer {iss}")
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key=issuer.key_for(kid),
                algorithms=[alg],
                audience=audience,
                issuer=iss,
                leeway=self.leeway_seconds,
                options={"require": ["iss", "aud", "exp", "iat", "jti"]},
            )
        except jwt.ExpiredSignatureError:
            raise AuthError("token expired") from None
        except jwt.InvalidAudienceError:
            raise AuthError(f"token audience does not match this endpoint ({audience})") from None
        except jwt.MissingRequiredClaimError as exc:
            raise AuthError(f"token lacks the required claim '{exc.claim}'") from None
        except (InvalidTokenError, PyJWKError, TypeError, ValueError) as exc:
            raise AuthError(f"token rejected ({exc})") from None
        raw_exp, jti = claims["exp"], claims["jti"]
        if isinstance(raw_exp, bool) or not isinstance(raw_exp, int | float) or not 0 < raw_exp < 1e11:
            raise AuthError("token 'exp' is not a plausible time")  # e.g. 10**400: not a float, let alone a time
        if not isinstance(jti, str) or not jti.strip() or len(jti) > MAX_JTI:
            raise AuthError(f"token 'jti' must be a non-empty string of at most {MAX_JTI} characters")
        exp = float(raw_exp)
        if exp - time.time() > MAX_LIFETIME_SECONDS:
            raise AuthError(f"token valid for more than {MAX_LIFETIME_SECONDS} s; issue one per call")
        if not self.replay.check_and_add(f"{iss}\n{jti}", exp + self.leeway_seconds):
            raise AuthError("token already used (jti replay)")
        return claims
