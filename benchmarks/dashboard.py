"""Benchmark the dashboard (`trimtab serve`) on the demo's journal: five years of hourly checks.

Figures printed:
- the drift page in headless Chromium: time to first contentful paint and to the chart drawn,
  cold (the server has not read the checks yet) and warm; the JSON the chart fetched (bytes, raw
  and as sent with gzip) against what all the checks would weigh;
- ``/api`` latency p50/p99 with 20 concurrent clients, on SQLite and on PostgreSQL (the demo's
  journal copied into a private PostgreSQL server), the server a real ``uvicorn`` process.

    python benchmarks/dashboard.py [--demo-dir DIR] [--requests 2000] [--clients 20]
        [--screenshots docs/img] [--json]

``--screenshots`` also saves a PNG of every page (docs/MONITORING.md shows them).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT / "tests"))
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_demo(directory: Path) -> Path:
    if not (directory / "demo-journal.db").exists():
        print(f"running the five-year demo into {directory} ...", file=sys.stderr, flush=True)
        subprocess.run([sys.executable, "-m", "trimtab", "demo", "--json", "--dir", str(directory)], check=True,
                       capture_output=True)
    return directory


class Server:
    """``trimtab serve`` in its own process (uvicorn, one worker), on the demo or on a journal URL."""

    def __init__(self, *, demo_dir: Path | None = None, journal: str | None = None) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        code = ("import sys; from trimtab.interfaces.web.serve import serve; "
                f"serve(port={self.port}, demo_dir={str(demo_dir)!r} if {demo_dir is not None} else None, "
                f"journal={journal!r}, announce=lambda *a: None)")
        env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
        env.pop("TRIMTAB_DASHBOARD_TOKEN", None)
        self.process = subprocess.Popen([sys.executable, "-c", code], env=env, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{self.base}/healthz").status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the dashboard did not start: {self.process.stderr.read()}")
            time.sleep(0.1)

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=20)


def browser_figures(server: Server, screenshots: Path | None) -> dict:
    from dashboard_helpers import ensure_chromium
    from playwright.sync_api import sync_playwright

    figures: dict = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=ensure_chromium(), headless=True, args=CHROMIUM_ARGS)
        for visit in ("cold", "warm"):
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            sizes: dict[str, int] = {}
            page.on("response", lambda r, sizes=sizes: sizes.__setitem__(r.url, len(r.body())) if "/api/" in r.url else None)
            page.goto(f"{server.base}/portfolios/demo/drift")
            page.wait_for_function("window.driftChart && document.querySelectorAll('.marker').length > 0")
            ready = page.evaluate("performance.now()")
            paint = page.evaluate("(performance.getEntriesByName('first-contentful-paint')[0] || {}).startTime")
            figures[visit] = {"first_contentful_paint_ms": paint, "chart_drawn_ms": ready,
                              "points_drawn": page.evaluate("window.driftChart.data[0].length")}
            if visit == "warm":
                figures["drift_json_bytes"] = sum(v for k, v in sizes.items() if "/drift" in k)
            page.close()
        if screenshots is not None:
            screenshots.mkdir(parents=True, exist_ok=True)
            page = browser.new_page(viewport={"width": 1280, "height": 860})
            run = httpx.get(f"{server.base}/api/portfolios/demo/runs").json()
            band_run = next((r["id"] for r in run if r["bridges"]), run[0]["id"])
            for name, path in [("portfolios", "/"), ("portfolio", "/portfolios/demo"),
                               ("drift", "/portfolios/demo/drift"), ("runs", "/portfolios/demo/runs"),
                               ("run", f"/runs/{band_run}"), ("advice", "/portfolios/demo/advice?days=365")]:
                page.goto(server.base + path)
                if name == "drift":
                    page.wait_for_function("window.driftChart && document.querySelectorAll('.marker').length > 0")
                page.wait_for_timeout(300)
                page.screenshot(path=str(screenshots / f"dashboard-{name}.png"), full_page=name != "runs")
            page.close()
        browser.close()
    return figures


def payload_figures(server: Server) -> dict:
    raw = httpx.get(f"{server.base}/api/portfolios/demo/drift", params={"window": "all", "width": 1240},
                    headers={"Accept-Encoding": "identity"})
    with httpx.Client() as client:  # the bytes on the wire with gzip
        zipped = client.send(client.build_request("GET", f"{server.base}/api/portfolios/demo/drift",
                                                  params={"window": "all", "width": 1240},
                                                  headers={"Accept-Encoding": "gzip"}), stream=True)
        wire = len(b"".join(zipped.iter_raw()))
        zipped.close()
    doc = raw.json()
    every = httpx.get(f"{server.base}/api/portfolios/demo/checks", params={"after": 0, "limit": 5000})
    per_check = len(every.content) / max(len(every.json()["checks"]), 1)
    return {"checks": doc["points_in_window"], "points_sent": doc["points_sent"], "json_bytes": len(raw.content),
            "gzip_bytes": wire, "all_checks_as_json_bytes_estimate": int(per_check * doc["points_in_window"])}


ENDPOINTS = ["/api/portfolios", "/api/portfolios/demo", "/api/portfolios/demo/drift?window=week",
             "/api/portfolios/demo/drift?window=all", "/api/portfolios/demo/runs",
             "/api/portfolios/demo/checks?after=43786", "/healthz"]


async def _load(base: str, total: int, clients: int) -> dict:
    latencies: dict[str, list[float]] = {e: [] for e in ENDPOINTS}
    queue: asyncio.Queue[str] = asyncio.Queue()
    for i in range(total):
        queue.put_nowait(ENDPOINTS[i % len(ENDPOINTS)])

    async def client() -> None:
        async with httpx.AsyncClient(base_url=base, timeout=60) as http:
            while not queue.empty():
                path = queue.get_nowait()
                started = time.perf_counter()
                response = await http.get(path)
                latencies[path].append((time.perf_counter() - started) * 1000)
                assert response.status_code == 200, (path, response.status_code)

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    wall = time.perf_counter() - started
    every = sorted(x for v in latencies.values() for x in v)

    def pct(values: list[float], q: float) -> float:
        values = sorted(values)
        return values[min(len(values) - 1, int(q * len(values)))]

    return {"requests": total, "clients": clients, "per_second": total / wall,
            "p50_ms": statistics.median(every), "p99_ms": pct(every, 0.99),
            "by_endpoint": {e: {"p50_ms": statistics.median(v), "p99_ms": pct(v, 0.99)} for e, v in latencies.items()}}


def copy_to_postgres(sqlite_path: Path, url: str) -> None:
    """The demo's journal, row for row, in PostgreSQL."""
    from sqlalchemy import create_engine, insert, select

    from trimtab.journal import Journal, schema

    Journal.open(url).close()  # the schema, by the journal's own migrations
    source, target = create_engine(f"sqlite:///{sqlite_path}"), create_engine(url)
    with source.connect() as s, target.begin() as t:
        for table in (schema.checks, schema.runs, schema.legs, schema.fills, schema.transfers):
            rows = [dict(r._mapping) for r in s.execute(select(table))]
            for i in range(0, len(rows), 5000):
                t.execute(insert(table), rows[i:i + 5000])
    source.dispose()
    target.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--demo-dir", type=Path, default=None)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--screenshots", type=Path, default=None)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    demo = make_demo(args.demo_dir or Path(tempfile.mkdtemp(prefix="trimtab-bench-")) / "demo")
    report: dict = {}
    server = Server(demo_dir=demo)
    try:
        report["drift_page"] = browser_figures(server, args.screenshots)
        report["drift_json"] = payload_figures(server)
        report["api_sqlite"] = asyncio.run(_load(server.base, args.requests, args.clients))
        report["api_sqlite_one_client"] = asyncio.run(_load(server.base, 350, 1))
    finally:
        server.stop()
    from postgres_server import postgres_server

    with postgres_server() as url:
        copy_to_postgres(demo / "demo-journal.db", url)
        server = Server(journal=url)
        try:
            httpx.get(f"{server.base}/api/portfolios/demo/drift", timeout=60)  # the first read of the checks
            report["api_postgresql"] = asyncio.run(_load(server.base, args.requests, args.clients))
            report["api_postgresql_one_client"] = asyncio.run(_load(server.base, 350, 1))
        finally:
            server.stop()
    report["machine"] = {"cores": os.cpu_count(), "load_average": os.getloadavg()}
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    d, j = report["drift_page"], report["drift_json"]
    print(f"drift page, 5-year demo ({j['checks']:,} checks), headless Chromium:")
    for visit in ("cold", "warm"):
        v = d[visit]
        print(f"  {visit}: first contentful paint {v['first_contentful_paint_ms']:.0f} ms, chart drawn "
              f"{v['chart_drawn_ms']:.0f} ms ({v['points_drawn']:,} points)")
    print(f"  drift JSON: {j['json_bytes'] / 1024:.0f} KiB ({j['gzip_bytes'] / 1024:.0f} KiB gzipped) for "
          f"{j['points_sent']:,} points; every check as JSON would be ~{j['all_checks_as_json_bytes_estimate'] / 1e6:.1f} MB")
    for name in ("api_sqlite", "api_postgresql"):
        r, one = report[name], report[name + "_one_client"]
        print(f"/api on {name[4:]}: {r['requests']} requests from {r['clients']} clients: p50 {r['p50_ms']:.1f} ms, "
              f"p99 {r['p99_ms']:.1f} ms, {r['per_second']:.0f} requests/s (one client: p50 {one['p50_ms']:.1f} ms, "
              f"p99 {one['p99_ms']:.1f} ms)")
        for endpoint, e in r["by_endpoint"].items():
            o = one["by_endpoint"][endpoint]
            print(f"    {endpoint:45} p50 {e['p50_ms']:7.1f} ms  p99 {e['p99_ms']:7.1f} ms   one client: p50 "
                  f"{o['p50_ms']:6.1f} ms")
    m = report["machine"]
    print(f"machine: {m['cores']} cores, load average {m['load_average'][0]:.1f} (other work shares them)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
