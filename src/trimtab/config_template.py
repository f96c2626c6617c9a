"""``trimtab init``: the config file written with a comment on every key."""

from __future__ import annotations

from collections.abc import Mapping

from trimtab.core.assets import Targets


def render_config(
    targets: Targets,
    *,
    holdings: Mapping[str, float],
    prices: Mapping[str, float],
    venue: str = "static",
    fee: float = 0.001,
    min_trade: float = 10.0,
    journal_url: str = "sqlite:///trimtab.db",
) -> str:
    """The text of a commented ``trimtab.toml`` (secrets are never written here)."""

    def table(values: Mapping[str, float]) -> str:
        return "\n".join(f"{asset} = {number!r}" for asset, number in values.items())

    return f"""\
# trimtab configuration. Every key is optional unless marked required.
# Secrets (API keys) are never stored here: they are read from environment variables.

[portfolio]
# The quote asset: what sells turn into and buys are paid with (price 1 by definition).
quote = "{targets.quote}"

[portfolio.targets]
# Required. Target weight per asset; they must sum to 1 (within 1e-6). The quote may be one of them.
{table(targets.weights)}

[policy]
# When to rebalance: "threshold" (past the band), "calendar" (on the schedule),
# "combined" (emergency band at once, else schedule or band), or "never".
kind = "combined"
# Absolute band: act when any |weight - target| > band.
band = 0.05
# Relative band (optional): act when any |weight - target| / target > relative_band.
# relative_band = 0.25
# Emergency band (combined only): act at once, even within the cooldown.
emergency_band = 0.15
# Schedule: "daily", "weekly", "monthly" or "quarterly" (first check of each new period).
schedule = "monthly"
# How often the loop checks, and the least time between two rebalances (30s, 15m, 1h, 1d, 1w).
check_every = "1h"
cooldown = "0s"

[trading]
# "target": trade back to the targets; "band-edge": only back to the nearest edge of the band.
mode = "target"
# Legs worth less than this (in the quote) are skipped as dust.
min_trade = {min_trade!r}
# Taker fee rate (0.001 = 0.1%).
fee = {fee!r}

[venue]
# Where holdings and prices come from. "static": the fixed numbers below.
kind = "{venue}"

[venue.holdings]
{table(holdings)}

[venue.prices]
# Price of each asset in the quote asset.
{table(prices)}

[journal]
# Where every check, decision and trade is recorded (a SQLite file by default, next to this one).
url = "{journal_url}"
"""
