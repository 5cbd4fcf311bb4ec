"""Sign-in throttling: failed attempts counted per account, per address and per (account, address) pair, in this
process's memory; and a bound on how many password checks run at once, so a flood of sign-ins cannot take the CPU
from people reading pages.

- 5 failures from one address on one account lock that pair for 1 minute, then 2, 4 … up to 15 minutes.
- 30 failures from one address (any accounts) within 15 minutes lock that address the same way.
- 100 failures on one account from all addresses within 15 minutes lock the account for 5 minutes, except from
  addresses it signed in from successfully before: a distributed attack cannot keep its owner out.
A quarter of an hour without failures forgets a key. Audit entries are aggregated: the first failure of a series and
each lockout are written (with counts), not every attempt.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TypeVar

PAIR_LIMIT = 5
ADDRESS_LIMIT = 30
ACCOUNT_LIMIT = 100
WINDOW_SECONDS = 15 * 60
FIRST_LOCK_SECONDS = 60.0
MAX_LOCK_SECONDS = 15 * 60.0
ACCOUNT_LOCK_SECONDS = 5 * 60.0
MAX_KEYS = 50_000  # bounded memory: the least recently failed keys are forgotten first
CHECK_WAIT_SECONDS = 5.0

K = TypeVar("K", str, tuple[str, str])


def account_key(username: str) -> str:
    """The throttle's name for an account: the user name, hashed (the typed text may be a password)."""
    return hashlib.sha256(("fbss-sign-in:" + username).encode("utf-8", "surrogatepass")).hexdigest()[:32]


@dataclass
class _Counter:
    failures: int = 0
    last_failure: float = 0.0
    locked_until: float = 0.0
    lockouts: int = 0


@dataclass(frozen=True, slots=True)
class Failure:
    """What one failed attempt did: the first of a series (audit it), a lockout it started (audit that)."""

    first: bool
    account_failures: int
    locked_for: float  # seconds; 0 when this attempt started no lockout
    scope: str  # "pair", "address" or "account" when locked_for > 0


class SignInThrottle:
    """In-memory counters for one process (`fbss serve` runs one); a restart forgets them."""

    def __init__(self, clock: Callable[[], float] = time.monotonic, concurrent_checks: int = 1) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._pairs: OrderedDict[tuple[str, str], _Counter] = OrderedDict()
        self._addresses: OrderedDict[str, _Counter] = OrderedDict()
        self._accounts: OrderedDict[str, _Counter] = OrderedDict()
        self._known_good: OrderedDict[tuple[str, str], float] = OrderedDict()
        self._checks = threading.BoundedSemaphore(concurrent_checks)

    def locked_for(self, account: str, address: str) -> float:
        """Seconds before this account may be tried from this address again (0: now)."""
        now = self._clock()
        with self._lock:
            waits = [
                self._wait(self._pairs.get((account, address)), now),
                self._wait(self._addresses.get(address), now),
            ]
            if (account, address) not in self._known_good:
                waits.append(self._wait(self._accounts.get(account), now))
        return max(waits)

    def failure(self, account: str, address: str) -> Failure:
        now = self._clock()
        with self._lock:
            pair = self._counter(self._pairs, (account, address), now)
            by_address = self._counter(self._addresses, address, now)
            by_account = self._counter(self._accounts, account, now)
            first = by_account.failures == 1
            locked, scope = 0.0, ""
            for counter, limit, name in ((pair, PAIR_LIMIT, "pair"), (by_address, ADDRESS_LIMIT, "address")):
                if counter.failures >= limit and counter.locked_until <= now:
                    seconds = min(FIRST_LOCK_SECONDS * 2**counter.lockouts, MAX_LOCK_SECONDS)
                    counter.locked_until, counter.lockouts = now + seconds, counter.lockouts + 1
                    counter.failures = 0
                    if seconds > locked:
                        locked, scope = seconds, name
            if by_account.failures >= ACCOUNT_LIMIT and by_account.locked_until <= now:
                by_account.locked_until, by_account.failures = now + ACCOUNT_LOCK_SECONDS, 0
                if locked < ACCOUNT_LOCK_SECONDS:
                    locked, scope = ACCOUNT_LOCK_SECONDS, "account"
            return Failure(first, by_account.failures, locked, scope)

    def success(self, account: str, address: str) -> int:
        """Forget the pair's failures and remember the address as one the account signs in from; returns how many
        failures the account had in the current series."""
        now = self._clock()
        with self._lock:
            self._pairs.pop((account, address), None)
            self._known_good[(account, address)] = now
            self._known_good.move_to_end((account, address))
            while len(self._known_good) > MAX_KEYS:
                self._known_good.popitem(last=False)
            counter = self._accounts.get(account)
            return counter.failures if counter is not None and now - counter.last_failure < WINDOW_SECONDS else 0

    @contextmanager
    def password_check(self) -> Iterator[bool]:
        """A slot for one password check (scrypt: about 50 ms of one core); False if none came free in 5 s."""
        acquired = self._checks.acquire(timeout=CHECK_WAIT_SECONDS)
        try:
            yield acquired
        finally:
            if acquired:
                self._checks.release()

    @staticmethod
    def _wait(counter: _Counter | None, now: float) -> float:
        return max(0.0, counter.locked_until - now) if counter is not None else 0.0

    def _counter(self, table: OrderedDict[K, _Counter], key: K, now: float) -> _Counter:
        """The key's counter with this failure added; a quarter of an hour quiet (after any lock) forgets it."""
        counter = table.get(key)
        if counter is None or now - max(counter.last_failure, counter.locked_until) > WINDOW_SECONDS:
            counter = _Counter()
            table[key] = counter
        table.move_to_end(key)
        counter.failures += 1
        counter.last_failure = now
        while len(table) > MAX_KEYS:
            table.popitem(last=False)
        return counter
