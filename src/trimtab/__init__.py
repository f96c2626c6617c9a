"""trimtab keeps a crypto portfolio on its target weights: it measures drift, decides when it
matters, plans the fewest and cheapest trades, and records every decision.

The names below are imported on first use, so ``import trimtab.backtest`` (or the core) does not
pay for the config machinery (pydantic) it does not need.

A backtest from the top level is ``trimtab.run_backtest(...)``: ``trimtab.backtest`` is the
backtesting package itself.
"""

from typing import TYPE_CHECKING

from trimtab.lazy import lazy_exports

__version__ = "0.1.0"

_EXPORTS = {
    "Assessment": "trimtab.core.assessment",
    "Config": "trimtab.config",
    "Denied": "trimtab.errors",
    "InputError": "trimtab.errors",
    "Targets": "trimtab.core.assets",
    "TrimtabError": "trimtab.errors",
    "VenueError": "trimtab.errors",
    "load_config": "trimtab.config",
    "Rebalancer": "trimtab.rebalancer",
    "StepResult": "trimtab.rebalancer",
    "advise": "trimtab.api",
    "create_paper_portfolio": "trimtab.api",
    "plan": "trimtab.api",
    "rebalance": "trimtab.api",
    "run_backtest": "trimtab.api",
    "status": "trimtab.api",
    "sweep": "trimtab.api",
    # the package, callable: trimtab.backtest(targets, ...) runs trimtab.api.run_backtest
    "backtest": "trimtab.backtest",
    # the shipped price history: trimtab.data.load_prices(...) after a bare `import trimtab`
    "data": "trimtab.data",
}

__all__ = sorted(_EXPORTS)

if TYPE_CHECKING:
    from trimtab.api import advise, create_paper_portfolio, plan, rebalance, run_backtest, status, sweep
    from trimtab.rebalancer import Rebalancer, StepResult
    from trimtab.config import Config, load_config
    from trimtab.core.assessment import Assessment
    from trimtab.core.assets import Targets
    from trimtab.errors import Denied, InputError, TrimtabError, VenueError


__getattr__, __dir__ = lazy_exports('trimtab', _EXPORTS, globals())
