"""Backtesting: the reference simulator (the live core over price history), the fast kernel for
sweeps, metrics, reports and charts. See docs/BACKTESTING.md for the conventions.

The names below load on first use, so a sweep that never needs the simulator (or pandas) does
not import it.
"""

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


__getattr__, __dir__ = lazy_exports('trimtab.backtest', _EXPORTS, globals())
