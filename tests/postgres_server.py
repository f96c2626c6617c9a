"""A real PostgreSQL server for the tests: initdb + pg_ctl on a free port on 127.0.0.1.

The server refuses to run as root, so the data directory belongs to the ``postgres`` system user
and the binaries run through ``runuser``. Missing binaries are installed with apt-get (no skip).
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from contextlib import contextmanager
from pathlib import Path


def _binaries() -> Path:
    if shutil.which("initdb") is None:
        found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
        if not found:
            install = ["apt-get", "install", "-y", "postgresql"]
            if subprocess.run(install, capture_output=True, check=False).returncode != 0:
                # a fresh machine has no package lists yet
                subprocess.run(["apt-get", "update"], check=True, capture_output=True)
                subprocess.run(install, check=True, capture_output=True)
            found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
        return Path(found[-1]).parent
    return Path(shutil.which("initdb")).parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _as_postgres(*args: str) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *args] if os.geteuid() == 0 else list(args)


#: url -> (binaries, data folder, server options, log file) of each server this process started
RUNNING: dict[str, tuple[Path, Path, str, Path]] = {}


def fresh_database(server_url: str, name: str) -> str:
    """A new, empty database ``name`` on the server of ``server_url`` (dropped first if a rerun left it);
    its URL, password kept."""
    import psycopg
    from sqlalchemy.engine import make_url

    url = make_url(server_url)
    with psycopg.connect(host=url.host, port=url.port, user=url.username, dbname="postgres", autocommit=True) as c:
        c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        c.execute(f'CREATE DATABASE "{name}"')
    return url.set(database=name).render_as_string(hide_password=False)


def restart_postgres(url: str) -> None:
    """Stop the server behind ``url`` at once (``-m immediate``: as a crash would) and start it again."""
    bin_dir, data, options, log = RUNNING[url]
    subprocess.run(_as_postgres(str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"),
                   check=True, capture_output=True)
    subprocess.run(_as_postgres(str(bin_dir / "pg_ctl"), "-D", str(data), "-o", options, "-w", "-l", str(log), "start"),
                   check=True, capture_output=True)


def postmaster_pid(url: str) -> int:
    """The server's main process (its CPU time, with its children's, is the database's cost)."""
    return int((RUNNING[url][1] / "postmaster.pid").read_text().split()[0])


@contextmanager
def postgres_server(settings: str = ""):
    """Yield a SQLAlchemy URL of a fresh database on a private server; stop and delete it after.
    ``settings``: more ``-c name=value`` server options (a benchmark raises max_connections)."""
    bin_dir = _binaries()
    root = Path(tempfile.mkdtemp(prefix="trimtab-pg-"))
    data = root / "data"
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
    os.chmod(root, 0o700)
    port = _free_port()
    subprocess.run(_as_postgres(str(bin_dir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust",
                                "-E", "UTF8", "--no-sync"), check=True, capture_output=True)
    options = f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off {settings}".strip()
    subprocess.run(_as_postgres(str(bin_dir / "pg_ctl"), "-D", str(data), "-o", options, "-w", "-l",
                                str(root / "log"), "start"), check=True, capture_output=True)
    try:
        import psycopg

        with psycopg.connect(f"host=127.0.0.1 port={port} user=postgres dbname=postgres", autocommit=True) as c:
            c.execute("CREATE DATABASE trimtab")
        url = f"postgresql+psycopg://postgres@127.0.0.1:{port}/trimtab"
        RUNNING[url] = (bin_dir, data, options, root / "log")
        yield url
    finally:
        subprocess.run(_as_postgres(str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"),
                       capture_output=True, check=False)
        shutil.rmtree(root, ignore_errors=True)
