"""Sending mail off the request path, so a response never reveals whether a message was sent.

Password reset answers the same page for known and unknown addresses; if it sent the mail inline, the SMTP
round trip would make the known-address response measurably slower (account enumeration by timing). Messages are
rendered and sent by the adapter's ``send_mail`` (``jeto_identity.adapter``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from typing import Any

from jeto_identity.conf import jeto_settings

logger = logging.getLogger(__name__)
_pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="jeto-mail")
_pending: set[Future] = set()


def _run(send: Callable[..., Any], args: tuple, kwargs: dict) -> None:
    try:
        send(*args, **kwargs)
    except Exception:  # noqa: BLE001 - a failed mail must be logged, never lost silently, never crash the pool
        logger.exception("Sending mail failed")


def send(send_function: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
    """Call ``send_function`` in the background (or inline when ``SEND_MAIL_IN_BACKGROUND`` is off).

    Either way a failure is logged, never raised: the caller's answer must not depend on it.
    """
    if not jeto_settings.SEND_MAIL_IN_BACKGROUND:
        _run(send_function, args, kwargs)
        return
    future = _pool.submit(_run, send_function, args, kwargs)
    _pending.add(future)
    future.add_done_callback(_pending.discard)


def send_mail(*args: Any, **kwargs: Any) -> None:
    """Send one templated message through the adapter's ``send_mail`` hook, off the request path."""
    from jeto_identity.adapter import get_adapter

    send(get_adapter().send_mail, *args, **kwargs)


def wait_for_pending(timeout: float = 10.0) -> None:
    """Block until queued mail is handed to the backend (tests, graceful shutdown)."""
    wait(list(_pending), timeout=timeout)
