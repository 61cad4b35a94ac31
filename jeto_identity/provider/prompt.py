"""When must the authorization endpoint ask the user to sign in again? (OIDC Core 3.1.2.1: prompt, max_age.)"""

from __future__ import annotations

import enum
import time


class Decision(enum.Enum):
    CONTINUE = "continue"
    REAUTHENTICATE = "reauthenticate"  # send the browser to the login page, forcing the form
    LOGIN_REQUIRED = "login_required"  # prompt=none and we would have had to ask: error to the client


def parse_prompt(raw: str | None) -> set[str]:
    return set((raw or "").split())


def session_too_old(auth_time: int | None, max_age: str | None, now: float | None = None) -> bool:
    """True when ``max_age`` was given and the session's authentication is older than it (or unknown)."""
    if max_age is None or max_age == "":
        return False
    if not max_age.isdigit():
        return False  # rejected as invalid_request by the server's parameter check
    if auth_time is None:
        return True
    now = time.time() if now is None else now
    return now - auth_time > int(max_age)


def decide(prompt: set[str], max_age: str | None, auth_time: int | None, now: float | None = None) -> Decision:
    """For a browser that already has a session: continue, re-authenticate, or fail with login_required."""
    stale = session_too_old(auth_time, max_age, now)
    if "none" in prompt:
        return Decision.LOGIN_REQUIRED if stale else Decision.CONTINUE
    if "login" in prompt or stale:
        return Decision.REAUTHENTICATE
    return Decision.CONTINUE
