"""`python -m bench [--smoke] [--only a,b] [--port-base N]`: see bench.runner."""

import sys

from bench.runner import main

sys.exit(main())
