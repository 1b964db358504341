from pbx_control.cli import main

raise SystemExit(main())
