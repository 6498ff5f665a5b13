"""Logs go to the stderr of the moment they are written: a worker or server started inside
another program (a test runner's CliRunner, an embedding app) that swaps and closes stderr
afterwards must not print '--- Logging error ---' into whatever comes next."""

from __future__ import annotations

import io
import logging
import sys

import pytest
import structlog

from flowdesk.logs import configure_logging, get_logger


def test_logs_follow_a_swapped_stderr(monkeypatch: pytest.MonkeyPatch) -> None:
    first = io.StringIO()
    monkeypatch.setattr(sys, "stderr", first)
    configure_logging("info")
    first.close()  # the program that started us is done with its stream
    second = io.StringIO()
    monkeypatch.setattr(sys, "stderr", second)
    try:
        logging.getLogger("alembic.runtime.migration").info("Running upgrade 0001")
        get_logger("flowdesk.test").info("worker started", worker="w1")
        written = second.getvalue()
        assert "Running upgrade 0001" in written and "worker started" in written
        assert "Logging error" not in written
    finally:
        logging.basicConfig(force=True, handlers=[logging.NullHandler()])
        structlog.reset_defaults()
