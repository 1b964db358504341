"""Where the test suite's stacks listen: ports laid out from one base, PBX_TEST_PORT_BASE (default
15000), so several suites can run on one machine at once. A knob of the tests, not of the service:
read here rather than in pbx_control.config.Settings."""

from __future__ import annotations

import os
import socket

from pbx_control.runtime.stack import Ports

TEST_PORT_BASE = int(os.environ.get("PBX_TEST_PORT_BASE", "15000"))
TEST_PORTS = Ports.for_tests(TEST_PORT_BASE)


def free_port() -> int:
    """A TCP port nothing listens on now (the kernel's pick), for a server started right after."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
