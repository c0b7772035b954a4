"""Real processes for fault injection: Celery workers to kill, and a PostgreSQL and a Redis of
our own to restart (never the machine's shared ones on 5432 / 6379)."""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from tests.waiting import wait_until

ROOT = Path(__file__).resolve().parent.parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Worker:
    """A `celery worker` subprocess; `kill()` is kill -9, nothing gets to clean up (the
    worker runs in a process group of its own, so its embedded beat goes with it)."""

    process: subprocess.Popen
    log_path: Path
    node: str = ""  # its node name, for remote control (`destination=[worker.node]`)

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def start_worker(
    *,
    database_url: str,
    broker_url: str,
    log_path: Path,
    concurrency: int = 8,
    env: Mapping[str, str] | None = None,
    name: str = "w",
    beat: bool = False,
    include: tuple[str, ...] = (),
    queues: str = "copilot",
) -> Worker:
    """Start a worker on the threads pool; returns once it consumes (fails if it cannot).

    With `beat`, the worker also runs the periodic schedule (the draft sweeper); `include`
    names modules it imports before it consumes (Celery's `--include`); `queues` are the
    queues it consumes (a queue nothing is sent to keeps it idle until told otherwise)."""
    full_env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "CELERY_BROKER_URL": broker_url,
        "SECRET_KEY": "worker-test-key-" + "x" * 40,
        "COPILOT_ENCRYPTION_KEYS": "worker-test-encryption-key",
        "DEBUG": "0",
        "PYTHONUNBUFFERED": "1",
        **(env or {}),
    }
    beat_args = ["-B", "-s", str(log_path.with_suffix(".beat-schedule"))] if beat else []
    include_args = ["--include", ",".join(include)] if include else []
    node = f"{name}-{os.getpid()}-{time.monotonic_ns()}@{socket.gethostname()}"
    log = open(log_path, "wb")  # noqa: SIM115 - closed once the process has it
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "copilot",
            "worker",
            "--pool=threads",
            f"--concurrency={concurrency}",
            "-Q",
            queues,
            "--loglevel=INFO",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "-n",
            node,
            *beat_args,
            *include_args,
        ],
        cwd=ROOT,
        env=full_env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    log.close()
    worker = Worker(process, log_path, node)
    try:
        wait_until(
            lambda: process.poll() is not None or "ready." in worker.log(),
            timeout=60,
            what="worker start",
        )
    except AssertionError:
        worker.stop()
        raise
    if process.poll() is not None:
        raise AssertionError("The Celery worker died at start:\n" + worker.log()[-3000:])
    return worker


def _pg_bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if not found:
        raise FileNotFoundError(f"PostgreSQL's {name} is not installed")
    return found[-1]


def _as_postgres_user() -> list[str]:
    """initdb and postgres refuse to run as root; run them as the `postgres` user then."""
    return ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []


@dataclass
class OwnPostgres:
    """A throw-away PostgreSQL cluster in a temp dir on a free port, restartable at will."""

    port: int = field(default_factory=free_port)
    datadir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="copilot-pg-")))

    @staticmethod
    def available() -> bool:
        return bool(glob.glob("/usr/lib/postgresql/*/bin/postgres"))

    def url(self, name: str = "postgres") -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{name}"

    def init(self) -> OwnPostgres:
        if os.geteuid() == 0:
            shutil.chown(self.datadir, "postgres", "postgres")
        subprocess.run(
            [
                *_as_postgres_user(),
                _pg_bin("initdb"),
                "-D",
                str(self.datadir / "data"),
                "-U",
                "postgres",
                "--auth=trust",
                "--no-sync",
            ],
            check=True,
            capture_output=True,
        )
        return self

    def start(self) -> None:
        self._pg_ctl(
            "start",
            "-w",
            "-l",
            str(self.datadir / "postgres.log"),
            "-o",
            f"-p {self.port} -h 127.0.0.1 -k {self.datadir} -c fsync=off",
        )
        wait_until(self.ready, timeout=30, what="own PostgreSQL start")

    def _pg_ctl(self, *args: str) -> None:
        subprocess.run(
            [*_as_postgres_user(), _pg_bin("pg_ctl"), "-D", str(self.datadir / "data"), *args],
            check=True,
            capture_output=True,
            timeout=60,
        )

    def ready(self) -> bool:
        return (
            subprocess.run(
                [_pg_bin("pg_isready"), "-h", "127.0.0.1", "-p", str(self.port), "-q"],
                check=False,
            ).returncode
            == 0
        )

    def stop(self) -> None:
        """A fast shutdown: clients are disconnected, as in a real restart."""
        if (self.datadir / "data" / "postmaster.pid").exists():
            self._pg_ctl("stop", "-m", "fast", "-w")

    def createdb(self, name: str) -> None:
        subprocess.run(
            [_pg_bin("createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", name],
            check=True,
            capture_output=True,
        )

    def destroy(self) -> None:
        self.stop()
        shutil.rmtree(self.datadir, ignore_errors=True)


@dataclass
class OwnRedis:
    """A redis-server of our own on a free port, without persistence, restartable at will."""

    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None

    @staticmethod
    def available() -> bool:
        return shutil.which("redis-server") is not None

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_until(self.ready, timeout=15, what="own Redis start")

    def ready(self) -> bool:
        import redis

        try:
            return bool(redis.Redis(port=self.port, socket_connect_timeout=0.5).ping())
        except redis.RedisError:
            return False

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)


class Supervisor:
    """Keeps one worker running, as systemd's `Restart=always` or Kubernetes would: when the
    worker exits, a new one is started."""

    def __init__(self, start: Callable[[], Worker]) -> None:
        self._start = start
        self.worker = start()
        self.restarts = 0
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()

    def _watch(self) -> None:
        while not self._stopping.wait(0.5):
            if self.worker.process.poll() is None:
                continue
            try:
                self.worker = self._start()
                self.restarts += 1
            except AssertionError:
                continue  # the broker is not back yet: try again on the next tick

    def stop(self) -> None:
        self._stopping.set()
        self._thread.join(timeout=90)
        self.worker.stop()
