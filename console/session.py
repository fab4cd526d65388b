"""Console sessions: sign in once with an API key, then an opaque cookie for a session kept here.

Who can do what (the console's threat model, README "The console"):
- The session cookie is 256 random bits, HttpOnly (no script reads it), SameSite=Strict (no other
  site's page sends it) and Secure when the console is reached over TLS. The server keeps the
  session in memory: the principal and the API key's credential, never the key itself. A stolen
  cookie is worth what the key is worth until the session idles out, is signed out or the key is
  revoked (every request confirms the credential against the store, as the API does).
- Every form carries the session's CSRF token; a POST without it, or with another, is refused
  before anything runs. The sign-in form, before any session, uses a double-submit token.
- A session idles out after RISKPOOL_CONSOLE_IDLE_SECONDS (30 minutes) without a request, ends 12
  hours after sign-in however busy, and ends at sign-out; a new session id is made at every sign-in
  (no fixation). A principal holds at most 20 sessions (its oldest ends first): signing in again
  and again ends no one else's. Sessions live in this
  process's memory: a restart signs everyone out, which is the safe direction.
"""

from __future__ import annotations

import hmac
import secrets
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field

from ledger.actors import Actor
from ledger.service.keys import Presented
from riskpool.settings import CONSOLE_IDLE_SECONDS

SESSION_COOKIE = "rp_session"
SIGN_IN_COOKIE = "rp_sign_in"  # the sign-in form's double-submit CSRF token, before any session
LANGUAGE_COOKIE = "rp_lang"
SESSION_LIFETIME_SECONDS = 12 * 3600  # a session ends this long after sign-in, however busy
SESSIONS_PER_PRINCIPAL_MAX = 20  # a principal's oldest session ends when a new one would pass this
SESSIONS_MAX = 10_000  # the least recently used session ends when a new one would pass this


@dataclass
class Session:
    id: str
    presented: Presented
    csrf: str
    opened: float
    last_seen: float
    flash: list[tuple[str, str]] = field(default_factory=list)  # (kind, message) shown once

    @property
    def actor(self) -> Actor:
        return self.presented.actor

    def csrf_matches(self, sent: str | None) -> bool:
        return bool(sent) and hmac.compare_digest(sent.encode(), self.csrf.encode())


class Sessions:
    """The signed-in sessions of this process, by id; idle ones are forgotten."""

    def __init__(self, *, idle_seconds: float = CONSOLE_IDLE_SECONDS, clock=time.monotonic) -> None:
        self.idle_seconds = idle_seconds
        self._clock = clock
        self._sessions: OrderedDict[str, Session] = OrderedDict()
        self._lock = threading.Lock()

    def open(self, presented: Presented) -> Session:
        now = self._clock()
        session = Session(
            id=secrets.token_urlsafe(32),
            presented=Presented(presented.actor, presented.credential),
            csrf=secrets.token_urlsafe(32),
            opened=now,
            last_seen=now,
        )
        principal = presented.actor.principal_id
        with self._lock:
            # one principal signing in again and again ends its own oldest sessions, not others'
            own = [s.id for s in self._sessions.values() if s.actor.principal_id == principal]
            for old in own[: max(0, len(own) + 1 - SESSIONS_PER_PRINCIPAL_MAX)]:
                del self._sessions[old]
            self._sessions[session.id] = session
            while len(self._sessions) > SESSIONS_MAX:
                self._sessions.popitem(last=False)
        return session

    def find(self, session_id: str | None) -> Session | None:
        """The live session of this id, its idle clock restarted; None when there is none, or it
        has idled out or outlived SESSION_LIFETIME_SECONDS (and is then forgotten)."""
        if not session_id:
            return None
        now = self._clock()
        with self._lock:
            session = self._sessions.get(session_id)
            if session is None:
                return None
            if now - session.last_seen > self.idle_seconds or now - session.opened > SESSION_LIFETIME_SECONDS:
                del self._sessions[session_id]
                return None
            session.last_seen = now
            self._sessions.move_to_end(session_id)
            return session

    def close(self, session_id: str | None) -> None:
        with self._lock:
            self._sessions.pop(session_id or "", None)
