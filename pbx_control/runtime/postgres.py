"""A private PostgreSQL 15 cluster: initdb once, start, stop.

initdb refuses to run as root, so the cluster belongs to the `postgres` system user (created by
Debian's postgresql package). It listens on 127.0.0.1 only, with a password (scram) for TCP.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

SUPERUSER = "pbx"
OWNER = "postgres"


@dataclass(frozen=True)
class PrivateCluster:
    data_dir: Path
    port: int
    bin_dir: Path  # the server binaries (Settings.pg_bin)

    @property
    def password_file(self) -> Path:
        return self.data_dir.parent / f"{self.data_dir.name}.password"

    @property
    def password(self) -> str:
        return self.password_file.read_text().strip()

    def url(self, database: str = "pbx") -> str:
        return f"postgresql://{SUPERUSER}:{self.password}@127.0.0.1:{self.port}/{database}"

    def _run_as_owner(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        cmd = list(args)
        if os.geteuid() == 0:
            cmd = ["runuser", "-u", OWNER, "--", *cmd]
        return subprocess.run(cmd, check=check, capture_output=True, text=True)

    def ensure_initialized(self) -> None:
        if (self.data_dir / "PG_VERSION").exists():
            return
        self.data_dir.parent.mkdir(parents=True, exist_ok=True)
        if not self.password_file.exists():
            self.password_file.write_text(secrets.token_urlsafe(24) + "\n")
            self.password_file.chmod(0o600)
        if self.data_dir.exists():
            shutil.rmtree(self.data_dir)
        self.data_dir.mkdir(mode=0o700)
        pwfile = self.data_dir.parent / f".{self.data_dir.name}.pwinit"
        pwfile.write_text(self.password + "\n")
        if os.geteuid() == 0:
            shutil.chown(self.data_dir, OWNER, OWNER)
            shutil.chown(pwfile, OWNER, OWNER)
        try:
            self._run_as_owner(
                str(self.bin_dir / "initdb"),
                "-D",
                str(self.data_dir),
                "-U",
                SUPERUSER,
                "--auth-host=scram-sha-256",
                "--auth-local=trust",
                f"--pwfile={pwfile}",
                "-E",
                "UTF8",
                "--locale=C.UTF-8",
            )
        finally:
            pwfile.unlink(missing_ok=True)
        conf = self.data_dir / "postgresql.conf"
        with conf.open("a") as f:
            f.write(
                "\n# pbx-control private cluster\n"
                "listen_addresses = '127.0.0.1'\n"
                f"unix_socket_directories = '{self.data_dir}'\n"
                "max_connections = 200\n"
                "shared_buffers = 256MB\n"
                "fsync = on\n"
            )

    def is_running(self) -> bool:
        r = self._run_as_owner(str(self.bin_dir / "pg_ctl"), "-D", str(self.data_dir), "status", check=False)
        return r.returncode == 0

    def start(self, timeout_s: float = 30) -> bool:
        """Start the server unless it runs already; True when this call started it."""
        self.ensure_initialized()
        started = not self.is_running()
        if started:
            log = self.data_dir.parent / f"{self.data_dir.name}.log"
            log.touch()
            if os.geteuid() == 0:
                shutil.chown(log, OWNER, OWNER)
            self._run_as_owner(
                str(self.bin_dir / "pg_ctl"),
                "-D",
                str(self.data_dir),
                "-l",
                str(log),
                "-o",
                f"-p {self.port}",
                "-w",
                "-t",
                str(int(timeout_s)),
                "start",
            )
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            r = subprocess.run(
                [str(self.bin_dir / "pg_isready"), "-h", "127.0.0.1", "-p", str(self.port)],
                capture_output=True,
                check=False,
            )
            if r.returncode == 0:
                return started
            time.sleep(0.2)
        raise RuntimeError(f"PostgreSQL on port {self.port} did not become ready")

    def stop(self) -> None:
        if (self.data_dir / "PG_VERSION").exists() and self.is_running():
            self._run_as_owner(
                str(self.bin_dir / "pg_ctl"), "-D", str(self.data_dir), "-m", "fast", "-w", "stop"
            )

    def create_database(self, name: str, *, drop_first: bool = False) -> None:
        psql = [
            str(self.bin_dir / "psql"),
            "-h",
            str(self.data_dir),
            "-p",
            str(self.port),
            "-U",
            SUPERUSER,
            "-d",
            "postgres",
            "-v",
            "ON_ERROR_STOP=1",
            "-qAt",
        ]
        if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", name):
            raise ValueError(f"invalid database name {name!r}")
        if drop_first:
            self._run_as_owner(*psql, "-c", f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        exists = self._run_as_owner(*psql, "-c", f"SELECT 1 FROM pg_database WHERE datname = '{name}'")  # noqa: S608 - name checked above
        if exists.stdout.strip() != "1":
            self._run_as_owner(*psql, "-c", f'CREATE DATABASE "{name}"')
