"""DMN test support: the TCK score board, printed at the end of every pytest run."""

from __future__ import annotations

from collections import defaultdict

import pytest

#: folder -> [passed, total], filled by test_tck.py through the `tck_scores` fixture.
TCK_SCORES: dict[str, list[int]] = defaultdict(lambda: [0, 0])


@pytest.fixture(scope="session")
def tck_scores() -> dict[str, list[int]]:
    return TCK_SCORES


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not TCK_SCORES:
        return
    terminalreporter.section("DMN TCK compliance level 2")
    passed = total = 0
    for folder in sorted(TCK_SCORES):
        ok, n = TCK_SCORES[folder]
        passed += ok
        total += n
        terminalreporter.write_line(f"{folder:48s} {ok:3d}/{n}")
    terminalreporter.write_line(f"{'all':48s} {passed:3d}/{total}")
