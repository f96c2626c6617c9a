#!/usr/bin/env python3
"""Set-up and the two everyday jobs, with nothing but Python 3.11 installed.

    python3 tasks.py demo   # create .venv, install trimtab, run the main job (`trimtab demo`)
    python3 tasks.py test   # create .venv, install trimtab with its test tools, run every test

Each creates ./.venv on first use and reinstalls when pyproject.toml changes. The base install has
every feature the README shows (the fast sweep kernel, `trimtab mcp`, ccxt venues); the extras
postgres, distributed and peers stay optional (README, "Quickstart").
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / "python"
EXTRAS = {"demo": "", "test": "[dev]"}  # the base install carries every feature the README shows

DEMO = ["demo"]  # five years of hourly checks on a paper portfolio, through the real executor


def ensure_venv(extras: str) -> None:
    if sys.version_info < (3, 11):
        sys.exit(f"trimtab needs Python 3.11 or newer; this is {sys.version.split()[0]}.")
    stamp = VENV / f".installed{extras or '[base]'}"
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if stamp.exists() and stamp.read_text() == digest:
        return
    if not PYTHON.exists():
        print(f"creating {VENV}", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    pip = [str(PYTHON), "-m", "pip", "install", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "--upgrade", "pip"], check=True)
    print(f"installing trimtab{extras} into {VENV}", flush=True)
    subprocess.run([*pip, "-e", f"{ROOT}{extras}"], check=True)
    stamp.write_text(digest)
    print(f"installed; `. {BIN / 'activate'}` puts trimtab on your PATH", flush=True)


def main(argv: list[str]) -> int:
    job = argv[0] if argv else ""
    if job not in EXTRAS:
        print(__doc__)
        return 2
    ensure_venv(EXTRAS[job])
    if job == "demo":
        return subprocess.run([str(BIN / "trimtab"), *DEMO, *argv[1:]]).returncode
    return subprocess.run([str(PYTHON), "-m", "pytest", "-n", "auto", *argv[1:]], cwd=ROOT).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
