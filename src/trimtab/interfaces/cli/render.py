"""Human-readable tables for an assessment (the ``plan`` and ``status`` commands)."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text

from trimtab.core.assessment import Assessment
from trimtab.interfaces.output import money, percent, quantity, stdout


def render_venues(a: Assessment) -> None:
    """A portfolio across venues: holdings per asset, venue and chain; where the plan trades; the moves."""
    venues = a.venues or {}
    table = Table(title="by venue and chain", title_justify="left")
    for name in ("asset", "venue", "chain", "quantity", "value", "weight"):
        table.add_column(name, justify="left" if name in ("asset", "venue", "chain") else "right")
    for asset, level in venues.get("holdings", {}).items():
        for venue, place in level["venues"].items():
            for chain, held in place["chains"].items():
                table.add_row(asset, venue, chain, quantity(held["quantity"]), money(held["value"]),
                              percent(held["value"] / a.valuation.total_value if a.valuation.total_value else 0.0))
    stdout.print(table)
    routing = venues.get("routing", {})
    if routing.get("legs"):
        stdout.print("where: " + "; ".join(f"{x['side']} {x['asset']} {money(x['value'])} on {x['venue']}"
                                            for x in routing["legs"]))
    for move in routing.get("moves", []):
        stdout.print(f"move: {money(move['amount'])} {a.valuation.quote} from {move['from']} to {move['to']} "
                     f"(fee {money(move['fee'])}, about {move['minutes']:.0f} min)")
    if a.note:
        stdout.print(Text(a.note, style="yellow"))


def render_assessment(a: Assessment, *, title: str) -> None:
    v = a.valuation
    table = Table(title=f"{title}: {money(v.total_value)} {v.quote}", title_justify="left")
    for name in ("asset", "quantity", "price", "value", "weight", "target", "drift"):
        table.add_column(name, justify="left" if name == "asset" else "right")
    for d in a.drift.assets:
        table.add_row(
            d.asset,
            quantity(v.quantities.get(d.asset, 0.0)),
            money(v.prices[d.asset]) if d.asset in v.prices else "-",
            money(v.values.get(d.asset, 0.0)),
            percent(d.weight),
            percent(d.target),
            f"{d.drift * 100:+.1f}%",
        )
    for t in v.in_transit:  # already inside the asset's quantity above: shown on its own line
        table.add_row(f"  in transit: {t.asset}", quantity(t.quantity), "", money(t.quantity * v.prices.get(t.asset, 0.0)),
                      "", "", "", style="dim")
    stdout.print(table)
    if a.venues is not None:
        render_venues(a)
    if v.in_transit:
        stdout.print(f"in transit: {money(v.in_transit_value)} {v.quote} (counted in the total and the weights)")
    flight = a.in_flight_line()
    if flight:
        stdout.print(Text(flight, style="bold"))
    verdict = ("rebalance", "bold yellow") if a.decision.rebalance else ("hold", "green")
    stdout.print(Text.assemble(f"max drift {percent(a.drift.max_drift)}; decision: ", verdict,
                               f" ({a.decision.reason})"))
    plan = a.plan
    if plan.is_empty:
        stdout.print(f"plan ({plan.mode}): nothing to trade")
    else:
        legs = Table(title=f"plan ({plan.mode}): sells first, then buys", title_justify="left")
        for name in ("side", "asset", "quantity", "value", "fee"):
            legs.add_column(name, justify="left" if name in ("side", "asset") else "right")
        for leg in plan.legs:
            legs.add_row(str(leg.side), leg.asset, quantity(leg.quantity), money(leg.value), money(leg.fee))
        stdout.print(legs)
        expected = ", ".join(f"{asset} {percent(w)}" for asset, w in plan.expected_weights.items())
        stdout.print(f"turnover {money(plan.turnover)} {v.quote}, fees {money(plan.fees)} {v.quote}; after: {expected}")
    for skipped in plan.skipped:
        stdout.print(f"skipped: {skipped.reason}", style="dim")
    if plan.why:
        stdout.print(f"why: {plan.why}")


def render_flows(report: dict, quote: str) -> None:
    """The returns with flows taken out, and the flows still waiting (``status``)."""
    returns = report.get("returns")
    if returns:
        stdout.print(returns_line(returns))
    for f in report.get("pending_flows", []):
        what = "deposit" if f["kind"] == "deposit" else "withdrawal"
        waiting = ("not in the balance yet: the next check confirms it from the balance; it is not drift"
                   if f["state"] == "pending" else "journaled, not yet confirmed by the venue: looked up before the next run")
        stdout.print(Text(f"pending {what}: {abs(f['quantity']):g} {f['asset']} ({money(abs(f['value']))} {quote}), "
                          f"{waiting}", style="yellow"))


def returns_line(returns: dict) -> str:
    """One line: time-weighted (flows removed) beside money-weighted, net flows and gain."""
    twr = "-" if returns["time_weighted_return"] is None else f"{returns['time_weighted_return']:+.2%}"
    per = " a year" if returns.get("money_weighted_per") == "year" else ""
    mwr = "-" if returns["money_weighted_return"] is None else f"{returns['money_weighted_return']:+.2%}{per}"
    return (f"returns since {returns['since'][:19].replace('T', ' ')}: time-weighted {twr} (flows removed), "
            f"money-weighted {mwr}; net flows {money(returns['net_flows'])}, gain {money(returns['gain'])} "
            f"(value {money(returns['start_value'])} -> {money(returns['end_value'])})")
