"""The counted proof's figures (issue 13), printed at the end of every pytest run.

A test calls `counts("group", cases=..., failures=..., lost=0)`: the line is printed at once
(seen with -s) and again, with the others, in the run's summary, so `make test` shows them."""

from __future__ import annotations

import pytest

LINES: list[str] = []


def counts(group: str, **figures: object) -> str:
    """One line of figures; returned too, for an assertion's message."""
    line = f"{group}: " + ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in figures.items())
    LINES.append(line)
    print(f"[counts] {line}")
    return line


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if LINES:
        terminalreporter.section("counted proof (cases tried, failures, data lost)")
        for line in LINES:
            terminalreporter.write_line(line)
