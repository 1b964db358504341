"""Where the test suite's stacks listen: ports laid out from one base, PBX_TEST_PORT_BASE (default
15000), so several suites can run on one machine at once. A knob of the tests, not of the service:
read here rather than in pbx_control.config.Settings."""

from __future__ import annotations

import os

from pbx_control.runtime.stack import Ports

TEST_PORT_BASE = int(os.environ.get("PBX_TEST_PORT_BASE", "15000"))
TEST_PORTS = Ports.for_tests(TEST_PORT_BASE)
