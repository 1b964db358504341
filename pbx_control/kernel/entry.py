"""How every process of the service starts: `python -m pbx_control.kernel.entry <module> [args...]`.

structlog imports rich (console tracebacks) whenever it is installed. The service's processes write
JSON lines and never render to a console, and rich is in the venv only as a test tool's dependency
(schemathesis): 4.9 MiB resident in each process, the service and its FastAGI process both. So an
entry marks it absent before anything is imported (structlog then falls back to plain tracebacks)
and runs the module as `__main__`. Not done on `import pbx_control`: the test process needs rich.
"""

from __future__ import annotations

import runpy
import sys

# Optional libraries that only ever render to a terminal.
CONSOLE_ONLY = ("rich",)


def keep_out_console_libraries() -> None:
    """`import rich` raises ImportError in this process from now on (unless it was imported)."""
    for name in CONSOLE_ONLY:
        sys.modules.setdefault(name, None)  # type: ignore[arg-type]


def command(module: str) -> list[str]:
    """The command line that runs `module` as a process of the service."""
    return [sys.executable, "-m", __name__, module]


if __name__ == "__main__":
    if len(sys.argv) < 2:
        raise SystemExit("usage: python -m pbx_control.kernel.entry <module> [args...]")
    keep_out_console_libraries()
    target = sys.argv.pop(1)  # the module sees its own arguments; runpy sets argv[0] as -m would
    runpy.run_module(target, run_name="__main__", alter_sys=True)
