from pbx_control.kernel.entry import keep_out_console_libraries

keep_out_console_libraries()  # before the CLI imports structlog (see pbx_control/kernel/entry.py)

from pbx_control.cli import main  # noqa: E402

raise SystemExit(main())
