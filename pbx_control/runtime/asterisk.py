"""One Asterisk 22 instance: its directories, rendered configuration and process.

By default Asterisk runs from the Debian sid root built by scripts/build-asterisk-root.sh, through
chroot; with root=None it is a native install (production). Each instance has its own directories
under {base} (as Asterisk sees them), so `make run` and the tests can run side by side.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from pbx_control.config import check_ami_secret
from pbx_control.kernel.files import replace_if_changed
from pbx_control.runtime.asterisk_config import render_dir
from pbx_control.runtime.moh import write_tune


@dataclass
class AsteriskInstance:
    name: str
    root: Path | None  # None: native Asterisk
    sip_port: int
    ami_port: int
    ami_secret: str
    agi_url: str
    db_host: str
    db_port: int
    db_name: str
    db_user: str
    db_password: str
    rtp_start: int
    rtp_end: int
    http_port: int = 8088  # Asterisk's HTTP server: SIP over WebSocket at /ws
    sip_tls_port: int = 5061  # SIP over TLS (transport-tls)
    tls_cert_file: Path | None = None  # the operator's PEM certificate; None: a self-signed one
    tls_key_file: Path | None = None
    ami_username: str = "pbx-control"
    sip_bind: str = "0.0.0.0"  # noqa: S104 - phones register from the network
    verbose: int = 0
    full_log: bool = False
    base_dir: str | None = None  # the instance directory, when not the default one
    _proc: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def base(self) -> str:
        """The instance directory as Asterisk sees it."""
        if self.base_dir is not None:
            return self.base_dir
        if self.root is None:
            return f"/var/lib/pbx-control/asterisk-{self.name}"
        return f"/srv/pbx-control/{self.name}"

    def host_path(self, inner: str) -> Path:
        """A path as Asterisk sees it, as this process sees it."""
        return Path(inner) if self.root is None else self.root / inner.lstrip("/")

    @property
    def etc_dir(self) -> Path:
        return self.host_path(f"{self.base}/etc")

    @property
    def log_dir(self) -> Path:
        return self.host_path(f"{self.base}/log")

    @property
    def spool_dir(self) -> Path:
        return self.host_path(f"{self.base}/spool")

    def _moddir(self) -> str:
        for arch_dir in sorted(self.host_path("/usr/lib").glob("*-linux-gnu")):
            if (arch_dir / "asterisk" / "modules").is_dir():
                return f"/usr/lib/{arch_dir.name}/asterisk/modules"
        return "/usr/lib/asterisk/modules"

    def render(self) -> None:
        check_ami_secret(self.ami_secret)
        for sub in ("etc", "lib", "spool", "run", "log", "cache"):
            self.host_path(f"{self.base}/{sub}").mkdir(parents=True, exist_ok=True)
        write_tune(self.host_path(f"{self.base}/moh"))  # musiconhold.conf
        cert, key = self._tls_keys()
        render_dir(
            self.etc_dir,
            {
                "base": self.base,
                "moddir": self._moddir(),
                "instance": self.name,
                "verbose": self.verbose,
                "full_log": "full.log => notice,warning,error,verbose(3)" if self.full_log else "",
                "ami_port": self.ami_port,
                "ami_username": self.ami_username,
                "ami_secret": self.ami_secret,
                "agi_url": self.agi_url,
                "sip_bind": self.sip_bind,
                "sip_port": self.sip_port,
                "sip_tls_port": self.sip_tls_port,
                "tls_cert_file": cert,
                "tls_key_file": key,
                "rtp_start": self.rtp_start,
                "rtp_end": self.rtp_end,
                "http_port": self.http_port,
                "db_host": self.db_host,
                "db_port": self.db_port,
                "db_name": self.db_name,
                "db_user": self.db_user,
                "db_password": self.db_password,
            },
        )
        if self.root is not None:
            # Without the host's name files, Asterisk stalls on DNS lookups inside the root.
            # The root is shared by every instance on the machine: replace the files atomically (an
            # instance booting meanwhile must never read a half-written hosts file).
            for name in ("hosts", "resolv.conf"):
                src = Path("/etc") / name
                if src.exists():
                    replace_if_changed(self.root / "etc" / name, src.read_bytes())

    def _tls_keys(self) -> tuple[str, str]:
        """The TLS certificate and key as Asterisk sees them, in {base}/keys: the operator's pair
        copied there (a chrooted Asterisk cannot read outside its root), or a self-signed pair made
        once by the openssl CLI and kept across restarts."""
        inner = f"{self.base}/keys"
        keys = self.host_path(inner)
        keys.mkdir(parents=True, exist_ok=True)
        cert, key = keys / "sip-tls.crt", keys / "sip-tls.key"
        if (self.tls_cert_file is None) != (self.tls_key_file is None):
            raise ValueError("PBX_SIP_TLS_CERT and PBX_SIP_TLS_KEY go together")
        if self.tls_cert_file is not None and self.tls_key_file is not None:
            shutil.copyfile(self.tls_cert_file, cert)
            shutil.copyfile(self.tls_key_file, key)
        elif not (cert.exists() and key.exists()):
            subprocess.run(
                [
                    "openssl",
                    "req",
                    "-x509",
                    "-newkey",
                    "rsa:2048",
                    "-nodes",
                    "-days",
                    "3650",
                    "-subj",
                    "/CN=pbx-control",
                    "-keyout",
                    str(key),
                    "-out",
                    str(cert),
                ],
                check=True,
                capture_output=True,
            )
        key.chmod(0o600)
        return f"{inner}/sip-tls.crt", f"{inner}/sip-tls.key"

    def forget_registrations(self) -> None:
        """Drop the registrations Asterisk kept (astdb): they belong to an earlier database's
        devices, and a stale contact with a reused port would ring the wrong phone."""
        (self.host_path(f"{self.base}/lib") / "astdb.sqlite3").unlink(missing_ok=True)

    def _cmd(self, *args: str) -> list[str]:
        conf = f"{self.base}/etc/asterisk.conf"
        inner = ["/usr/sbin/asterisk", "-C", conf, *args]
        return inner if self.root is None else ["chroot", str(self.root), *inner]

    def start(self, *, timeout_s: float = 60) -> None:
        """Start in the foreground (-f) and wait until fully booted. Asterisk's console output goes
        to {log_dir}/console.log (this run's only), so a failed boot can be read."""
        self.render()
        self.log_dir.mkdir(parents=True, exist_ok=True)
        with (self.log_dir / "console.log").open("wb") as console:  # the child keeps its own descriptor
            self._proc = subprocess.Popen(
                self._cmd("-f", "-n"),
                stdout=console,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        self.wait_fully_booted(timeout_s)

    def wait_fully_booted(self, timeout_s: float = 60) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self._proc is not None and self._proc.poll() is not None:
                raise RuntimeError(
                    f"asterisk {self.name} exited with {self._proc.returncode} while booting\n"
                    + self.log_tail()
                )
            try:
                r = subprocess.run(
                    self._cmd("-rx", "core waitfullybooted"),
                    capture_output=True,
                    text=True,
                    timeout=max(1.0, deadline - time.monotonic()),
                    check=False,
                )
            except subprocess.TimeoutExpired:
                break
            if r.returncode == 0 and "fully booted" in r.stdout.lower():
                return
            time.sleep(0.2)
        raise RuntimeError(f"asterisk {self.name} did not boot within {timeout_s}s\n" + self.log_tail())

    def log_tail(self, lines: int = 25) -> str:
        """The end of the console and messages logs, for an error a reader can act on."""
        out = []
        for name in ("console.log", "messages.log"):
            path = self.log_dir / name
            try:
                text = path.read_text(errors="replace").splitlines()[-lines:]
            except OSError:
                continue
            out.append(f"--- {path} (last {len(text)} lines)\n" + "\n".join(text))
        return "\n".join(out) or f"(no logs in {self.log_dir})"

    def cli(self, command: str, timeout_s: float = 10) -> str:
        r = subprocess.run(
            self._cmd("-rx", command), capture_output=True, text=True, timeout=timeout_s, check=False
        )
        return r.stdout

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None and self._proc.poll() is None else None

    def kill(self) -> None:
        """SIGKILL, as a crash: no BYE, no Hangup event, no goodbye on AMI (fault tests)."""
        if self._proc is not None and self._proc.poll() is None:
            os.killpg(self._proc.pid, signal.SIGKILL)
            self._proc.wait(timeout=5)
        self._proc = None

    def stop(self, timeout_s: float = 15) -> None:
        if self._proc is None or self._proc.poll() is not None:
            self._proc = None
            return
        try:
            self.cli("core stop now", timeout_s=5)
            self._proc.wait(timeout=timeout_s)
        except (subprocess.TimeoutExpired, OSError):
            os.killpg(self._proc.pid, signal.SIGKILL)
            self._proc.wait(timeout=5)
        self._proc = None
