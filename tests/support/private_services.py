"""Private Redis and MariaDB servers that a test may stop and start at will.

The Redis and MariaDB on the default ports are shared with other test runs.
A test that takes a service away therefore starts its own instance on a free
loopback port, keeps its data in the test's temporary folder, and stops it
afterwards. When the server binaries are missing the test is skipped, except
under CI (the `CI` environment variable is set), where it fails.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

MARIADB_SERVER = "/usr/sbin/mariadbd"
# How long a private server may take to start or stop, in s. MariaDB needs
# a few seconds for InnoDB recovery on a loaded machine.
START_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 60.0
POLL_INTERVAL_S = 0.05


def require_binaries(*names: str) -> dict[str, str]:
    """Return the paths of server binaries; skip the test when one is missing (fail under CI)."""
    found = {name: shutil.which(name) or "" for name in names}
    missing = [name for name, path in found.items() if not path]
    if not missing:
        return found
    reason = f"private service instances need {', '.join(missing)}, which is not installed"
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI is set, so this is an error)")
    pytest.skip(reason)


def free_port() -> int:
    """Return a loopback TCP port that was free a moment ago."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), 0.5):
            return True
    except OSError:
        return False


class PrivateServer:
    """One server process on a fixed loopback port that can be stopped and started again."""

    name = "server"

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self._log = folder / "server.log"

    def command(self) -> list[str]:
        raise NotImplementedError

    def start(self) -> None:
        """Start the server and wait until its port accepts connections."""
        assert self.process is None, f"{self.name} is already running"
        with self._log.open("ab") as log:
            self.process = subprocess.Popen(
                self.command(), stdout=log, stderr=subprocess.STDOUT, cwd=self.folder
            )
        deadline = time.monotonic() + START_TIMEOUT_S
        while not port_open(self.port):
            if self.process.poll() is not None:
                self.process = None
                raise AssertionError(f"{self.name} exited at start-up:\n{self.log_tail()}")
            if time.monotonic() > deadline:
                self.stop()
                raise AssertionError(
                    f"{self.name} did not open port {self.port}:\n{self.log_tail()}"
                )
            time.sleep(POLL_INTERVAL_S)

    def stop(self) -> None:
        """Stop the server with SIGTERM (SIGKILL after STOP_TIMEOUT_S) and wait for it."""
        process, self.process = self.process, None
        if process is None:
            return
        if process.poll() is None:
            process.send_signal(signal.SIGCONT)
            process.send_signal(signal.SIGTERM)
        try:
            process.wait(STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(STOP_TIMEOUT_S)

    def freeze(self) -> None:
        """SIGSTOP the server: connections stay open but no reply comes, like a hung host."""
        assert self.process is not None, f"{self.name} is not running"
        self.process.send_signal(signal.SIGSTOP)

    def thaw(self) -> None:
        """SIGCONT a frozen server."""
        assert self.process is not None, f"{self.name} is not running"
        self.process.send_signal(signal.SIGCONT)

    def log_tail(self, lines: int = 20) -> str:
        if not self._log.exists():
            return ""
        return "\n".join(self._log.read_text(errors="replace").splitlines()[-lines:])


class PrivateRedis(PrivateServer):
    """redis-server that keeps its data across a stop and start, or loses it (`persistent`)."""

    name = "private Redis"

    def __init__(self, folder: Path, binary: str, *, persistent: bool = True) -> None:
        super().__init__(folder)
        self.binary = binary
        self.persistent = persistent

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}"

    def command(self) -> list[str]:
        # With an append-only file synced on every write, a stopped Redis
        # loses no write it acknowledged, so a restart tests reconnection.
        # Without one, a restart starts empty, like a Redis without persistence.
        persistence = (
            ["--appendonly", "yes", "--appendfsync", "always"]
            if self.persistent
            else ["--appendonly", "no"]
        )
        return [
            self.binary,
            "--port", str(self.port),
            "--bind", "127.0.0.1",
            "--save", "",
            *persistence,
            "--dir", str(self.folder),
            "--daemonize", "no",
        ]  # fmt: skip


class PrivateMariaDB(PrivateServer):
    """mariadbd on a data folder of its own, root without a password over TCP."""

    name = "private MariaDB"

    def __init__(self, folder: Path, install_db: str) -> None:
        super().__init__(folder)
        self.data = folder / "data"
        self.install_db = install_db

    @property
    def admin_url(self) -> str:
        return f"mysql://root@127.0.0.1:{self.port}"

    def install(self) -> None:
        """Create the system tables of a new data folder."""
        with self._log.open("ab") as log:
            subprocess.run(
                [
                    self.install_db,
                    "--no-defaults",
                    f"--datadir={self.data}",
                    "--user=root",
                    "--auth-root-authentication-method=normal",
                    "--skip-test-db",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                check=True,
                timeout=START_TIMEOUT_S,
            )

    def command(self) -> list[str]:
        # skip-grant-tables lets root in over TCP without a password; a small
        # buffer pool keeps several instances within a test machine's memory.
        return [
            MARIADB_SERVER,
            "--no-defaults",
            f"--datadir={self.data}",
            f"--port={self.port}",
            "--bind-address=127.0.0.1",
            f"--socket={self.folder / 'mariadb.sock'}",
            f"--pid-file={self.folder / 'mariadb.pid'}",
            "--user=root",
            "--skip-grant-tables",
            "--skip-log-bin",
            "--innodb-buffer-pool-size=32M",
        ]


@contextlib.contextmanager
def private_redis(folder: Path, *, persistent: bool = True) -> Iterator[PrivateRedis]:
    """Run a private Redis for the block; it is stopped afterwards, even if the test stopped it."""
    binary = require_binaries("redis-server")["redis-server"]
    folder.mkdir(parents=True, exist_ok=True)
    server = PrivateRedis(folder, binary, persistent=persistent)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@contextlib.contextmanager
def private_mariadb(folder: Path) -> Iterator[PrivateMariaDB]:
    """Run a private MariaDB for the block on a new data folder; it is stopped afterwards."""
    install_db = require_binaries("mariadb-install-db")["mariadb-install-db"]
    if not Path(MARIADB_SERVER).exists():
        require_binaries(MARIADB_SERVER)
    folder.mkdir(parents=True, exist_ok=True)
    server = PrivateMariaDB(folder, install_db)
    try:
        server.install()
        server.start()
        yield server
    finally:
        server.stop()
        # The data folder is over 100 MB and pytest keeps the folders of
        # recent runs; the server log beside it stays for diagnosis.
        shutil.rmtree(server.data, ignore_errors=True)
