"""Backtesting: the reference simulator (the live core over price history), the fast kernel for
sweeps, metrics, reports and charts. See docs/BACKTESTING.md for the conventions."""

from trimtab.backtest.fills import Fill
from trimtab.backtest.metrics import Metrics
from trimtab.backtest.simulator import BacktestResult, Rebalance, run_backtest
from trimtab.backtest.spec import BacktestSpec, FeeModel

__all__ = ["BacktestResult", "BacktestSpec", "FeeModel", "Fill", "Metrics", "Rebalance", "run_backtest"]
