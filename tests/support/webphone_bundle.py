"""The page bundle the softphone browser tests load: JsSIP and webapp/src/softphone.js, bundled by
esbuild from the npm packages `scripts/setup.sh` installs into tests/support/webphone/."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ROOT / "tests" / "support" / "webphone"


def build_bundle(out: Path) -> None:
    entry = out.parent / "entry.js"
    entry.write_text(
        'import JsSIP from "jssip";\n'
        f'import {{ Softphone }} from "{ROOT / "webapp" / "src" / "softphone.js"}";\n'
        "window.JsSIP = JsSIP;\nwindow.Softphone = Softphone;\n"
    )
    subprocess.run(
        [
            str(PACKAGES / "node_modules" / ".bin" / "esbuild"),
            str(entry),
            "--bundle",
            "--format=iife",
            f"--outfile={out}",
            "--log-level=warning",
        ],
        cwd=PACKAGES,
        env={**os.environ, "NODE_PATH": str(PACKAGES / "node_modules")},
        check=True,
    )
