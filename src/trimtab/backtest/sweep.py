"""Running many backtests: on this machine's cores (processes) or on a Dask cluster.

Each configuration runs on the fast kernel (``fast.run_fast``) over the same prepared prices.
Rows come back in the grid's order as ``{configuration..., metrics...}`` dicts.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import Any

from trimtab.backtest.fast import Prepared, run_fast
from trimtab.backtest.grid import describe, spec_from_row
from trimtab.backtest.spec import BacktestSpec

Progress = Callable[[int], None]

#: Below this many bar-asset steps in total, processes cost more than they save.
_SERIAL_WORK = 100_000_000

_DATA: Prepared | None = None


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

    ``workers``: processes to use (default: every core, or 1 for a small sweep); ``scheduler``: a
    Dask distributed scheduler address, which takes the work instead. ``progress(n)`` is called
    as each batch of ``n`` configurations finishes. Raise ``InputError`` when the scheduler cannot
    be reached within ``connect_timeout`` seconds.
    """
    rows = [describe(spec) for spec in specs]
    batches = _batches(rows, _parts(len(rows), scheduler, workers, data))
    if scheduler:
        results = _on_dask(scheduler, data, batches, progress, connect_timeout)
    elif workers == 1 or len(batches) == 1:
        results = {}
        for i, batch in enumerate(batches):
            results[i] = _run_batch(batch, data)
            if progress:
                progress(len(batch))
    else:
        results = _on_processes(data, batches, workers or os.cpu_count() or 1, progress)
    return [row for i in range(len(batches)) for row in results[i]]


def _run_batch(batch: Sequence[dict[str, Any]], data: Prepared | None = None) -> list[dict[str, Any]]:
    data = data if data is not None else _DATA
    return [{**row, **run_fast(data, spec_from_row(row)).to_dict()} for row in batch]


def _parts(n: int, scheduler: str | None, workers: int | None, data: Prepared) -> int:
    if scheduler:
        return max(1, min(n, 64))
    cores = workers or os.cpu_count() or 1
    if workers is None and n * data.prices.size < _SERIAL_WORK:
        return 1
    return max(1, min(n, cores * 4))


def _batches(rows: list[dict[str, Any]], parts: int) -> list[list[dict[str, Any]]]:
    size = -(-len(rows) // parts)
    return [rows[i : i + size] for i in range(0, len(rows), size)]


def _adopt(data: Prepared) -> None:
    global _DATA
    _DATA = data


def _on_processes(data: Prepared, batches, workers: int, progress: Progress | None) -> dict[int, list]:
    import multiprocessing

    run_fast(data.head(2), spec_from_row(batches[0][0]))  # load the compiled kernel once, before forking
    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else None
    context = multiprocessing.get_context(method)
    results: dict[int, list] = {}
    with ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=_adopt, initargs=(data,)) as pool:
        futures = {pool.submit(_run_batch, batch): i for i, batch in enumerate(batches)}
        for future in as_completed(futures):
            results[futures[future]] = future.result()
            if progress:
                progress(len(batches[futures[future]]))
    return results


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


def buy_and_hold_rows(prepared: Prepared, specs: Sequence[BacktestSpec]) -> list[dict]:
    """One buy-and-hold row per portfolio (targets) of the sweep, and per cash-flow policy when
    it has flows, in the sweep's row shape: the baseline its policies are read against."""
    rows: dict[str, dict] = {}
    for spec in specs:
        key = repr((sorted(spec.targets.weights.items()), str(spec.cash_flows)))
        if key not in rows:
            baseline = spec.buy_and_hold()
            rows[key] = {**describe(baseline), **run_fast(prepared, baseline).to_dict()}
    return list(rows.values())
