"""The seed blog's policy table, checked against real history.

The blog (the project's seed) claims, for BTC/ETH/USDC 50/30/20 with a 0.1% fee:

| policy | trades a month | max drift | fee drag a year |
| 2% band | 25-40 | 3% | - |
| 5% band | 6-12 | 8% | 0.6-1.2% |
| 10% band | 2-4 | 15% | - |
| monthly | 1 | 20%+ | 3.6% |
| 5% band + monthly | 6-12 | 8% | - |

``compare`` runs those five policies with the reference simulator (the live core, the
``proceeds`` fee model, ``min_trade`` 10, capital 10,000) over the last five years of the data
(bars after the last bar minus five calendar years) and says plainly where the data disagrees.
Our *trade* is one filled leg; the blog does not say what it counts, so a trade count that matches
only as rebalances is reported as such.

``run_compare_flows`` runs the same five policies with a contribution (DCA) or withdrawal each
period, once with ``steer`` and once with ``ignore``, and says what steering saved: trades and fees.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from trimtab.backtest.simulator import run_backtest
from trimtab.backtest.spec import BacktestSpec, FeeModel
from trimtab.core.assets import Targets
from trimtab.core.policy import PolicyKind, PolicySpec
from trimtab.core.triggers import Period

TARGETS = {"BTC": 0.5, "ETH": 0.3, "USDC": 0.2}
FEE = 0.001
#: The one rule for every check: a measured figure agrees with a claimed value or range when it
#: lies in that range widened by this share each way (8% -> 6-10%; 6-12 -> 4.5-15); a claim of at
#: least c ("20%+") agrees from (1 - TOLERANCE) x c.
TOLERANCE = 0.25
RULE = ("a figure agrees with the blog when it lies within the claimed value or range widened by 25% each way "
        "(8% -> 6-10%, 6-12 trades -> 4.5-15); a claim of at least c (20%+) needs 75% of c")


@dataclass(frozen=True, kw_only=True)
class Claim:
    """What the blog says for one policy; ``max_drift_at_least`` marks a claim such as "20%+"."""

    name: str
    policy: PolicySpec
    trades: tuple[float, float]
    max_drift: float
    max_drift_at_least: bool = False
    fee_drag: tuple[float, float] | None = None


def _band(width: float) -> PolicySpec:
    return PolicySpec(kind=PolicyKind.THRESHOLD, band=width)


CLAIMS = (
    Claim(name="2% band", policy=_band(0.02), trades=(25, 40), max_drift=0.03),
    Claim(name="5% band", policy=_band(0.05), trades=(6, 12), max_drift=0.08, fee_drag=(0.006, 0.012)),
    Claim(name="10% band", policy=_band(0.10), trades=(2, 4), max_drift=0.15),
    Claim(name="monthly", policy=PolicySpec(kind=PolicyKind.CALENDAR, band=None, schedule=Period.MONTHLY),
          trades=(1, 1), max_drift=0.20, max_drift_at_least=True, fee_drag=(0.036, 0.036)),
    Claim(name="5% band + monthly", policy=PolicySpec(kind=PolicyKind.COMBINED, band=0.05, schedule=Period.MONTHLY),
          trades=(6, 12), max_drift=0.08),
)


def last_five_years(close: pd.DataFrame) -> pd.DataFrame:
    """The bars after (last bar - 5 calendar years)."""
    end = close.index[-1]
    return close.loc[close.index > end - pd.DateOffset(years=5)]


def run_compare(close: pd.DataFrame) -> list[dict[str, Any]]:
    """One row per claim: our measured numbers, the blog's, and a verdict in words."""
    rows = []
    for claim in CLAIMS:
        spec = BacktestSpec(targets=Targets.of(TARGETS), policy=claim.policy, fee=FEE, fee_model=FeeModel.PROCEEDS)
        m = run_backtest(close, spec).metrics
        rows.append({
            "policy": claim.name,
            "rebalances_per_month": m.rebalances_per_month,
            "trades_per_month": m.trades_per_month,
            "max_drift": m.max_drift,
            "fee_drag_per_year": m.fee_drag_per_year,
            "annual_return": m.annual_return,
            "volatility": m.volatility,
            "max_drawdown": m.max_drawdown,
            "final_value": m.final_value,
            "claim": {
                "trades_per_month": list(claim.trades),
                "max_drift": claim.max_drift,
                "max_drift_at_least": claim.max_drift_at_least,
                "fee_drag_per_year": list(claim.fee_drag) if claim.fee_drag else None,
            },
            "verdict": verdict(claim, m.trades_per_month, m.rebalances_per_month, m.max_drift, m.fee_drag_per_year),
        })
    return rows


def fits(measured: float, low: float, high: float) -> bool:
    """The one rule (``TOLERANCE``): ``measured`` lies in ``low..high`` widened by 25% each way."""
    return low * (1 - TOLERANCE) <= measured <= high * (1 + TOLERANCE)


def verdict(claim: Claim, trades: float, rebalances: float, max_drift: float, fee_drag: float) -> str:
    """One plain sentence: "agrees" or "disagrees", then each check, every one by the same rule
    (``fits``), with the range it allows in brackets."""
    low, high = claim.trades
    said = f"{low:g}" if low == high else f"{low:g}-{high:g}"
    allowed = f"[{low * (1 - TOLERANCE):g}-{high * (1 + TOLERANCE):g}]"
    checks: list[tuple[str, bool]] = []
    if fits(trades, low, high):
        checks.append((f"{trades:.1f} trades/month fit the claimed {said} {allowed}", True))
    elif fits(rebalances, low, high):
        text = (f"{rebalances:.1f} rebalances/month fit the claimed {said} {allowed} if the blog counts rebalances "
                f"({trades:.1f} legs)")
        checks.append((text, True))
    else:
        checks.append((f"{trades:.1f} trades/month ({rebalances:.1f} rebalances), not {said} {allowed}", False))
    c = claim.max_drift * 100
    if claim.max_drift_at_least:
        ok = max_drift * 100 >= c * (1 - TOLERANCE)
        checks.append((f"max drift {max_drift * 100:.1f}% " + ("reaches" if ok else "stays below")
                       + f" {c:g}%+ [from {c * (1 - TOLERANCE):g}%]", ok))
    else:
        ok = fits(max_drift * 100, c, c)
        checks.append((f"max drift {max_drift * 100:.1f}% " + ("is about" if ok else "is not about")
                       + f" {c:g}% [{c * (1 - TOLERANCE):g}-{c * (1 + TOLERANCE):g}%]", ok))
    if claim.fee_drag:
        lo, hi = (x * 100 for x in claim.fee_drag)
        claimed = f"{lo:g}%" if lo == hi else f"{lo:g}-{hi:g}%"
        ok = fits(fee_drag * 100, lo, hi)
        checks.append((f"fee drag {fee_drag * 100:.2f}%/yr " + ("fits" if ok else "is far from")
                       + f" the claimed {claimed} [{lo * (1 - TOLERANCE):.3g}-{hi * (1 + TOLERANCE):.3g}%]", ok))
    head = "agrees" if all(ok for _, ok in checks) else "disagrees"
    return f"{head}: " + "; ".join(text for text, _ in checks) + "."


def run_compare_flows(close: pd.DataFrame, *, flow: float, every) -> list[dict[str, Any]]:  # type: ignore[no-untyped-def]
    """One row per policy of the blog's table with ``flow`` each ``every`` period: steer's and
    ignore's metrics, and what steering saved (``trades_saved``, ``fees_saved``: ignore's less
    steer's; negative when steering cost more)."""
    from dataclasses import replace

    from trimtab.backtest.spec import CashFlows

    rows = []
    for claim in CLAIMS:
        base = BacktestSpec(targets=Targets.of(TARGETS), policy=claim.policy, fee=FEE, fee_model=FeeModel.PROCEEDS,
                            flow=flow, every=every)
        steer = run_backtest(close, replace(base, cash_flows=CashFlows.STEER)).metrics
        ignore = run_backtest(close, replace(base, cash_flows=CashFlows.IGNORE)).metrics
        rows.append({
            "policy": claim.name,
            "steer": _flow_figures(steer),
            "ignore": _flow_figures(ignore),
            "trades_saved": ignore.trade_count - steer.trade_count,
            "rebalances_saved": ignore.rebalance_count - steer.rebalance_count,
            "fees_saved": ignore.total_fees - steer.total_fees,
        })
    return rows


def _flow_figures(m) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    return {key: getattr(m, key) for key in (
        "rebalance_count", "trade_count", "flow_trade_count", "total_traded", "total_fees", "max_drift",
        "time_weighted_return", "money_weighted_return", "net_flows", "final_value")}
