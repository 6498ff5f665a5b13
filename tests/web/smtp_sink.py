"""A real SMTP server (aiosmtpd) on a free local port that keeps what it receives: the
customer's mailbox for the reply tests, in TestClient and in the browser."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from aiosmtpd.controller import Controller
from tests.channels.test_email_smtp import Sink, free_port


@contextmanager
def serving_sink() -> Iterator[tuple[Sink, int]]:
    handler = Sink()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield handler, port
    finally:
        controller.stop()
