"""One rounding rule for every document trimtab hands out (CLI ``--json``, MCP results).

The engine computes in full float precision; a document shows each quantity in one shape:

* money (a value, fees, turnover, a final value... in the quote asset) to the cent: 2 decimals;
* fractions (weights, targets, drift, relative drift, bands, returns, fee drag) to 6 decimals,
  i.e. 0.0001 of a percentage point;
* everything else (quantities, prices, counts of months) to 12 significant digits, which only
  removes float noise (0.15000000000000002 -> 0.15);
* NaN and infinities become None (JSON null).

A key names its kind; a mapping under a fraction key (``weights``, ``targets``) holds fractions.
``fee`` is money beside a ``value`` (a leg, a fill, a bridge) and a rate elsewhere (a backtest's
``fee`` of 0.001), so it is never rounded to cents there. The Python objects (``Assessment``,
``RunOutcome``...) keep full precision; only documents are rounded, here.
"""

from __future__ import annotations

import math
from typing import Any

MONEY_KEYS = frozenset({
    "value", "fees", "total_value", "turnover", "traded_value", "value_before", "value_after", "final_value",
    "planned_fee", "planned_fees", "venue_cost", "saving", "total_traded", "total_fees", "total_slippage",
    "start_value", "buy_and_hold_value", "capital", "end_value", "net_flows", "gain",
})
FRACTION_KEYS = frozenset({
    "weight", "weights", "target", "targets", "expected_weights", "drift", "relative_drift", "max_drift",
    "max_relative_drift", "band", "relative_band", "emergency_band", "suggested_band", "total_return",
    "annual_return", "volatility", "max_drawdown", "fee_drag_per_year", "time_weighted_return",
    "money_weighted_return",
})
MONEY_DIGITS = 2
FRACTION_DIGITS = 6


def round_document(value: Any, key: str | None = None) -> Any:
    """``value`` with every float rounded by the module's rule; ``key`` is the name it sits under."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, float):
        return _round(value, key)
    if isinstance(value, dict):
        inherited = key if key in FRACTION_KEYS else None
        money_fee = "value" in value
        return {str(k): round_document(v, _kind(str(k), inherited, money_fee)) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [round_document(v, key) for v in value]
    return value


def _kind(key: str, inherited: str | None, money_fee: bool) -> str | None:
    if key == "fee":
        return "value" if money_fee else None
    if key in MONEY_KEYS or key in FRACTION_KEYS:
        return key
    return inherited


def _round(value: float, key: str | None) -> float | None:
    if math.isnan(value) or math.isinf(value):
        return None
    if key in MONEY_KEYS:
        return round(value, MONEY_DIGITS) + 0.0  # + 0.0 turns -0.0 into 0.0
    if key in FRACTION_KEYS:
        return round(value, FRACTION_DIGITS) + 0.0
    return float(f"{value:.12g}")
