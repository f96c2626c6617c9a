"""What the alerts sender costs a run: the same rebalances with and without alerts.

A paper portfolio (BTC/ETH/USDC 50/30/20, one chain, no bridges) is rebalanced ``--runs`` times;
before each, BTC's price jumps up or down 40% so every step is a real run of two legs past the
emergency band (the emergency condition starts once, then one completed-rebalance event a step). Modes:

- ``plain``     the agent with no watch (as before alerts existed)
- ``watched``   the watch journals its events (what the metrics count), nobody is told
- ``alerts``    the watch plus the sender, to a json:// receiver on 127.0.0.1 that answers at once
- ``hanging``   the same, to a receiver that never answers while the runs go on

The modes take turns, one rebalance each. For each it prints the median and p90 milliseconds per rebalance, the difference to ``plain``
(noisy on a shared machine) and the median time spent inside the watch itself (its journal reads
and writes and the sender's queue: the direct cost, free of that noise).

    python benchmarks/alerts_overhead.py [--runs 40] [--json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))


def receiver(hang: threading.Event | None) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if hang is not None:
                hang.wait(600)
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


class Setup:
    """One mode's portfolio, agent and (maybe) sender and receiver."""

    def __init__(self, mode: str) -> None:
        import trimtab
        from trimtab.config import load_config
        from trimtab.interfaces.cli.execution import start_alerts
        from trimtab.wiring import build_agent

        self.mode = mode
        directory = Path(tempfile.mkdtemp(prefix=f"trimtab-alerts-{mode}-"))
        config = trimtab.create_paper_portfolio(directory, targets={"BTC": 0.5, "ETH": 0.3, "USDC": 0.2},
                                                holdings={"BTC": 0.1, "ETH": 1.25, "USDC": 1000},
                                                prices={"BTC": 65000, "ETH": 2000}, clock_speed=0)
        self.hang = threading.Event()
        self.server = None
        if mode in ("alerts", "hanging"):
            self.server = receiver(None if mode == "alerts" else self.hang)
            url = f"json://127.0.0.1:{self.server.server_address[1]}/h"
            config.write_text(config.read_text().replace("urls = []", f'urls = ["{url}"]')
                              + "retries = 5\nqueue_size = 10000\n")
        loaded, path = load_config(config)
        self.agent = build_agent(loaded, path)
        self.sender = start_alerts(self.agent, loaded) if mode != "plain" else None
        self.times: list[float] = []
        self.watch_times: list[float] = []
        if self.agent.watch is not None:  # time the watch itself (journal reads, events, the queue)
            succeeded = self.agent.watch.succeeded

            def timed(result) -> None:  # type: ignore[no-untyped-def]
                started = time.perf_counter()
                succeeded(result)
                self.watch_times.append(time.perf_counter() - started)

            self.agent.watch.succeeded = timed  # type: ignore[method-assign]

    def step(self, i: int) -> None:
        self.agent.venue.set_prices({"BTC": 65000 * (1.4 if i % 2 == 0 else 1 / 1.4), "ETH": 2000})
        started = time.perf_counter()
        result = self.agent.rebalance()
        self.times.append(time.perf_counter() - started)
        assert result.outcome is not None and result.outcome.state == "completed", result.outcome

    def finish(self) -> dict:
        stats: dict = {}
        if self.sender is not None:
            stats = {"queued": self.sender.queued, "sent_during_runs": self.sender.sent, "failed": self.sender.failed,
                     "dropped": self.sender.dropped, "pending_after_runs": self.sender.pending}
            self.sender.close(wait=0 if self.mode == "hanging" else 30)
        self.hang.set()
        if self.server is not None:
            self.server.shutdown()
        return stats


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    setups = [Setup(mode) for mode in ("plain", "watched", "alerts", "hanging")]
    for i in range(args.runs + 3):  # the modes take turns, so a busy moment of the machine hits all alike
        for setup in setups:
            setup.step(i)
    report = {}
    for setup in setups:
        times = setup.times[3:]  # the first three are warm-up (imports, apprise's plugin table)
        watch = setup.watch_times[3:]
        report[setup.mode] = {"median_s": statistics.median(times),
                              "watch_median_ms": statistics.median(watch) * 1000 if watch else 0.0,
                              "p90_s": sorted(times)[int(0.9 * len(times)) - 1], "runs": len(times),
                              **setup.finish()}
    for figures in report.values():
        figures["median_vs_plain_ms"] = (figures["median_s"] - report["plain"]["median_s"]) * 1000
    if args.json:
        print(json.dumps(report, indent=2))
        return
    print(f"{'mode':<9} {'median ms':>10} {'p90 ms':>8} {'vs plain':>9} {'in watch':>9}  sender")
    for mode, r in report.items():
        sender = {k: v for k, v in r.items() if k in ("queued", "sent_during_runs", "pending_after_runs", "dropped")}
        print(f"{mode:<9} {r['median_s'] * 1000:>10.1f} {r['p90_s'] * 1000:>8.1f} {r['median_vs_plain_ms']:>+8.1f} "
              f"{r['watch_median_ms']:>9.2f}  {sender or ''}")


if __name__ == "__main__":
    main()
