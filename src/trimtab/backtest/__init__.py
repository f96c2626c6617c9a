"""Backtesting: the reference simulator (the live core over price history), the fast kernel for
sweeps, metrics, reports and charts. See docs/BACKTESTING.md for the conventions.

The names below load on first use, so a sweep that never needs the simulator (or pandas) does
not import it.
"""

import sys
from types import ModuleType
from typing import TYPE_CHECKING

from trimtab.lazy import lazy_exports

_EXPORTS = {
    "BacktestResult": "trimtab.backtest.simulator",
    "BacktestSpec": "trimtab.backtest.spec",
    "FeeModel": "trimtab.backtest.spec",
    "Fill": "trimtab.backtest.fills",
    "Metrics": "trimtab.backtest.metrics",
    "Rebalance": "trimtab.backtest.simulator",
    "run_backtest": "trimtab.backtest.simulator",
}

__all__ = ["BacktestResult", "BacktestSpec", "FeeModel", "Fill", "Metrics", "Rebalance", "run_backtest"]

if TYPE_CHECKING:
    from trimtab.backtest.fills import Fill
    from trimtab.backtest.metrics import Metrics
    from trimtab.backtest.simulator import BacktestResult, Rebalance, run_backtest
    from trimtab.backtest.spec import BacktestSpec, FeeModel


__getattr__, __dir__ = lazy_exports("trimtab.backtest", _EXPORTS, globals())


class _BacktestModule(ModuleType):
    """Lets ``trimtab.backtest(targets, ...)`` run a backtest (see ``trimtab.api.run_backtest``)
    while ``trimtab.backtest`` stays the package of the simulator, kernel and reports."""

    def __call__(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        from trimtab.api import run_backtest

        return run_backtest(*args, **kwargs)


sys.modules[__name__].__class__ = _BacktestModule
