"""Running many backtests: on this machine's cores (threads inside the kernel) or on a Dask cluster.

Every configuration runs on the fast kernel (``fast.run_many``) over the same prepared prices; on
one machine the kernel's own threads (numba ``prange``) share the configurations, with no process
start-up, pickling or copy of the prices. Rows come back in the grid's order as
``{configuration..., metrics...}`` dicts.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from trimtab.backtest.fast import Prepared, run_many
from trimtab.backtest.grid import describe, spec_from_row
from trimtab.backtest.spec import BacktestSpec

Progress = Callable[[int], None]

#: Bar-asset steps per chunk of a sweep on this machine (about 0.1-0.2 s of kernel time): progress
#: is reported after each chunk.
_CHUNK_WORK = 100_000_000
#: Batches sent to a Dask cluster at most.
_DASK_BATCHES = 64


def run_sweep(
    data: Prepared,
    specs: Sequence[BacktestSpec],
    *,
    workers: int | None = None,
    scheduler: str | None = None,
    progress: Progress | None = None,
    connect_timeout: float = 10.0,
) -> list[dict[str, Any]]:
    """Run every spec over ``data``; return one row per spec, in order.

    ``workers``: the kernel's threads on this machine (default: every core); ``scheduler``: a Dask
    distributed scheduler address, which takes the work instead, in batches. ``progress(n)`` is
    called as each chunk of ``n`` configurations finishes. Raise ``InputError`` when the scheduler
    cannot be reached within ``connect_timeout`` seconds.
    """
    rows = [describe(spec) for spec in specs]
    if scheduler:
        batches = _batches(rows, max(1, min(len(rows), _DASK_BATCHES)))
        results = _on_dask(scheduler, data, batches, progress, connect_timeout)
        return [row for i in range(len(batches)) for row in results[i]]
    size = max(1, _CHUNK_WORK // max(1, data.prices.size))
    out: list[dict[str, Any]] = []
    for first in range(0, len(specs), size):
        chunk = specs[first : first + size]
        metrics = run_many(data, chunk, threads=workers)
        out.extend({**row, **m.to_dict()} for row, m in zip(rows[first : first + size], metrics))
        if progress:
            progress(len(chunk))
    return out


def _run_batch(batch: Sequence[dict[str, Any]], data: Prepared) -> list[dict[str, Any]]:
    """One Dask task: its configurations on one thread (the cluster's workers are the parallelism)."""
    metrics = run_many(data, [spec_from_row(row) for row in batch], threads=1)
    return [{**row, **m.to_dict()} for row, m in zip(batch, metrics)]


def _batches(rows: list[dict[str, Any]], parts: int) -> list[list[dict[str, Any]]]:
    size = -(-len(rows) // parts)
    return [rows[i : i + size] for i in range(0, len(rows), size)]


def _on_dask(address: str, data: Prepared, batches, progress: Progress | None, timeout: float) -> dict[int, list]:
    from trimtab.errors import InputError

    try:
        from distributed import Client
        from distributed import as_completed as dask_completed
    except ImportError:
        from trimtab.extras import missing

        raise InputError(missing("distributed")) from None
    try:
        client = Client(address, timeout=f"{timeout}s")
    except (OSError, TimeoutError) as e:
        raise InputError(f"Cannot reach the Dask scheduler at {address}: {e}") from None
    try:
        shared = client.scatter(data, broadcast=True)
        futures = [client.submit(_run_batch, batch, shared, pure=False) for batch in batches]
        index = {f.key: i for i, f in enumerate(futures)}
        results: dict[int, list] = {}
        for future in dask_completed(futures):
            i = index[future.key]
            results[i] = future.result()
            if progress:
                progress(len(batches[i]))
        return results
    finally:
        client.close()


def buy_and_hold_rows(prepared: Prepared, specs: Sequence[BacktestSpec], *, workers: int | None = None) -> list[dict]:
    """One buy-and-hold row per portfolio (targets) of the sweep, and per cash-flow policy when
    it has flows, in the sweep's row shape: the baseline its policies are read against. ``workers`` as ``run_sweep``'s (the same kernel entry,
    so a process loads one compiled kernel, not two)."""
    baselines: dict[str, BacktestSpec] = {}
    for spec in specs:
        baselines.setdefault(repr((sorted(spec.targets.weights.items()), str(spec.cash_flows))), spec.buy_and_hold())
    chosen = list(baselines.values())
    return [{**describe(b), **m.to_dict()} for b, m in zip(chosen, run_many(prepared, chosen, threads=workers))]
