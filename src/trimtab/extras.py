"""What to install when an import fails: one sentence with the exact ``pip install`` command.

The base install (``pip install trimtab``, which ``python3 tasks.py demo`` does) carries every
feature the README shows: the fast sweep kernel (numba), the MCP server (mcp, uvicorn,
jsonschema), exchanges through ccxt, alerts (apprise) and metrics
(prometheus-client). Four extras stay optional because few need them and they
are large: ``postgres`` (a PostgreSQL journal), ``fleet`` (many portfolios on procrastinate's
PostgreSQL queue), ``distributed`` (``sweep --scheduler`` on a Dask
cluster) and ``peers`` (bt and vectorbt, to compare against). ``tests/test_setup_extras.py``
checks this table against pyproject.toml.
"""

from __future__ import annotations

#: top-level Python module -> (what needs it, the distribution, the extra that installs it or None
#: when it belongs to the base install)
PARTS: dict[str, tuple[str, str, str | None]] = {
    "numba": ("the fast sweep kernel", "numba>=0.60", None),
    "llvmlite": ("the fast sweep kernel", "numba>=0.60", None),
    "ccxt": ("an exchange venue through ccxt", "ccxt>=4.3", None),
    "mcp": ("`trimtab mcp`", "mcp>=2.3,<3", None),
    "uvicorn": ("`trimtab mcp --http`", "uvicorn>=0.30", None),
    "jsonschema": ("`trimtab mcp`", "jsonschema>=4.20", None),
    "apprise": ("alerts (`[alerts] urls`)", "apprise>=1.9", None),
    "prometheus_client": ("Prometheus /metrics", "prometheus-client>=0.20", None),
    "tenacity": ("retries with backoff", "tenacity>=8.2", None),
    "fastapi": ("`trimtab serve`", "fastapi>=0.110", None),
    "jinja2": ("`trimtab serve`", "jinja2>=3.1", None),
    "starlette": ("`trimtab serve`", "fastapi>=0.110", None),
    "psycopg": ("a PostgreSQL journal", "psycopg[binary]>=3.1", "postgres"),
    "procrastinate": ("a fleet (`trimtab fleet`, `trimtab worker`)", "procrastinate>=3.10", "fleet"),
    "psycopg_pool": ("a fleet (`trimtab fleet`, `trimtab worker`)", "psycopg[binary,pool]>=3.1", "fleet"),
    "dask": ("`sweep --scheduler` (a Dask cluster)", "dask[distributed]>=2024.1", "distributed"),
    "distributed": ("`sweep --scheduler` (a Dask cluster)", "dask[distributed]>=2024.1", "distributed"),
    "bt": ("the comparison with bt", "bt>=1.4.1", "peers"),
    "vectorbt": ("the comparison with vectorbt", "vectorbt>=0.26", "peers"),
}


def install_command(module: str) -> str | None:
    """The exact command that installs ``module`` (a top-level module name), or None if unknown."""
    part = PARTS.get(module.split(".")[0])
    if part is None:
        return None
    _, distribution, extra = part
    return f"pip install 'trimtab[{extra}]'" if extra else f"pip install '{distribution}'"


def missing(module: str) -> str | None:
    """One sentence for a failed import of ``module``: what needs it and how to install it."""
    part = PARTS.get(module.split(".")[0])
    if part is None:
        return None
    what, distribution, extra = part
    name = distribution.split("[")[0].split(">")[0].split("<")[0]
    kind = f"the optional extra `{extra}`" if extra else "part of the base install, but missing here"
    return f"{what[0].upper()}{what[1:]} needs {name} ({kind}): {install_command(module)}"
