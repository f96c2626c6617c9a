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
    paper: Mapping[str, object] | None = None,
    markets: Mapping[str, str] | None = None,
    venue_text: str | None = None,
) -> str:
    """The text of a commented ``trimtab.toml`` (secrets are never written here); ``venue_text``,
    when given, is the whole ``[venue]`` section (see :func:`ccxt_section`)."""

    def table(values: Mapping[str, float]) -> str:
        return "\n".join(f"{asset} = {number!r}" for asset, number in values.items())

    if paper is None:
        venue_section = f"""[venue]
# Where holdings and prices come from. "static": the fixed numbers below; "paper": a simulated exchange.
kind = "{venue}"

[venue.holdings]
{table(holdings)}

[venue.prices]
# Price of each asset in the quote asset.
{table(prices)}
"""
    else:
        venue_section = f"""[venue]
# "paper": a simulated exchange with chains and bridges; its balances live in the account file.
kind = "paper"
# The account (SQLite), next to this file unless absolute.
account = "{paper['account']}"
# Real seconds each order or bridge request takes (so a run can be interrupted part-way; 0-60).
order_latency = {paper['order_latency']!r}
# Fills are this many basis points worse than the price (0-1000).
slippage_bps = {paper['slippage_bps']!r}
# Fraction of a bridged amount the bridge keeps (0-0.1), and its latency range in simulated minutes.
bridge_fee = {paper['bridge_fee']!r}
bridge_minutes = [{paper['bridge_minutes'][0]!r}, {paper['bridge_minutes'][1]!r}]
# Simulated seconds per real second, 0-1000000 (bridges of 2-15 simulated minutes take 2-15 s at 60). The paper
# clock stamps checks and runs, so at 60 a simulated month passes in 12 real hours; set 1 for wall time.
clock_speed = {paper['clock_speed']!r}
# "fixed": the account's price table; "history": the shipped hourly closes at the simulated time;
# "venue": live prices read (never traded) from the venue of another config file, e.g. an exchange:
#   price_source = "venue", price_from = "binance.toml", clock_speed = 1
price_source = "{paper['price_source']}"
# Orders below this notional are refused, as on an exchange.
min_notional = {paper['min_notional']!r}

[venue.markets]
# The chain each asset trades on against the quote (sells credit the quote there).
{chr(10).join(f'{a} = "{c}"' for a, c in (markets or {}).items())}
"""
    if venue_text is not None:
        venue_section = venue_text
    return f"""\
# trimtab configuration. Every key is optional unless marked required.
# Secrets (API keys) are never stored here: they are read from environment variables.

[portfolio]
# A name for this portfolio in the journal.
name = "main"
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
# How often the loop checks (1s-52w), and the least time between two rebalances (0s-52w); 30s, 15m, 1h, 1d, 1w.
check_every = "1h"
cooldown = "0s"
# Deposits and withdrawals: "steer" (a deposit buys what is underweight, a withdrawal sells what is
# overweight; a full sell-and-buy rebalance only if drift is still past the band) or "ignore".
cash_flows = "steer"

[trading]
# "target": trade back to the targets; "band-edge": only back to the nearest edge of the band.
mode = "target"
# Legs worth less than this (in the quote) are skipped as dust.
min_trade = {min_trade!r}
# Taker fee rate (0.001 = 0.1%; at most 0.1).
fee = {fee!r}
# Where the venue has a market between two of your assets (ETH/BTC on an exchange), trade a sell of
# one and a buy of the other there when one fee costs less than two legs through the quote.
direct_pairs = true

{venue_section}
[execution]
# Guards checked before any order is sent (a refusal names its code, e.g. STALE_PRICE).
# Prices older than this are not traded on.
max_price_age = "5m"
# If a price moved more than this fraction since planning, the run stops and is planned again.
max_price_move = 0.02
# Caps on traded value (in the quote) per run and per day; remove the # to set them.
# max_run_value = 50000.0
# max_daily_value = 100000.0
# `trimtab withdraw`: the most one withdrawal may be worth, and the only addresses it may send to.
# max_withdrawal_value = 5000.0
# withdraw_addresses = ["0x..."]
# Kill switch: true here, or the file below existing (next to this config), stops new orders at once.
kill_switch = false
kill_file = "trimtab.stop"
# A bridge still travelling after this long parks the run for a person to look at.
transfer_timeout = "2h"

[agent]
# Guardrails for AI agents (`trimtab mcp`, the Python Rebalancer). See docs/AGENTS.md.
# The assets a plan may trade (default: the assets in the targets) and the venues an agent may use.
# allowed_assets = ["BTC", "ETH", "USDC"]
allowed_venues = ["paper"]
# true: a person must run `trimtab approve PLAN_ID` before an agent's plan can execute.
require_approval = false
# How long a plan from plan_rebalance stays executable (1s-30d).
plan_ttl = "15m"
# MCP tool calls beyond this many in any minute are refused (a runaway loop shows up as TOO_MANY_CALLS).
max_calls_per_minute = 120
# The environment variable holding the bearer token of `trimtab mcp --http PORT`.
http_token_env = "TRIMTAB_MCP_TOKEN"
# true: an agent may pay funds out (MCP `withdraw`, Rebalancer.withdraw), and only when
# [execution] max_withdrawal_value and withdraw_addresses are both set, to one of those addresses.
allow_withdrawals = false

[dashboard]
# `trimtab serve`: true shows a "rebalance now" button that plans, then executes that plan by id
# through the [agent] guardrails above (and the caps and kill switch). See docs/MONITORING.md.
allow_rebalance = false

[journal]
# Where every check, decision and trade is recorded (a SQLite file by default, next to this one).
url = "{journal_url}"

[alerts]
# Where alerts go: apprise URLs (json://host/path, form://..., tgram://TOKEN/CHAT, discord://...,
# slack://..., mailto://...). A URL may hold a token: trimtab never prints, logs or journals it.
# `trimtab alerts test` sends one test message to each. See docs/MONITORING.md.
urls = []
# Which events are sent (default: all but the optional daily_summary):
# rebalance_completed, leg_failed, needs_attention, emergency_drift, guard_refusal,
# venue_unreachable, kill_switch, daily_summary
# events = ["rebalance_completed", "leg_failed", "needs_attention", "emergency_drift", "guard_refusal",
#           "venue_unreachable", "kill_switch"]
# Venue errors in a row before "venue_unreachable" is sent.
unreachable_after = 3
"""


def ccxt_section(exchange: str, *, api_key_env: str, secret_env: str, api_url: str | None = None) -> str:
    """The ``[venue]`` section of a ccxt config; the key and secret stay in the environment."""
    url = (f'# Tests only: send every request to this server instead of the exchange.\napi_url = "{api_url}"\n'
           if api_url else "")
    return f"""[venue]
# "ccxt": a spot account on an exchange that ccxt supports (one account = one chain, named after it).
kind = "ccxt"
# The ccxt id of the exchange, e.g. "binance", "kraken", "okx".
exchange = "{exchange}"
# The environment variables holding the API key and secret (never write the key itself here).
api_key_env = "{api_key_env}"
secret_env = "{secret_env}"
# Milliseconds before a request is given up (its order, if any, is then looked up by client id).
timeout_ms = 10000
{url}"""


def purpleflea_trading_section(*, api_url: str | None, hyperliquid_url: str | None, key_file: str | None) -> str:
    """The ``[venue]`` section of a Purple Flea trading config; the key stays in the environment or a 0600 file."""
    lines = ['[venue]',
             '# "purpleflea-trading": Hyperliquid perps through Purple Flea, held long at leverage 1 (USDC margin).',
             'kind = "purpleflea-trading"',
             '# The key comes from the environment variable PURPLEFLEA_TRADING_KEY, or from key_file (chmod 600).']
    if key_file:
        lines.append(f'key_file = "{key_file}"')
    if api_url:
        lines += ['# Tests only: the trading API at this address instead of https://trading.purpleflea.com.',
                  f'api_url = "{api_url}"']
    if hyperliquid_url:
        lines += ["# Where the account's value is read (Hyperliquid's /info).", f'hyperliquid_url = "{hyperliquid_url}"']
    lines += ["# The venue's record of its writes (the API takes no client id), next to this file.",
              'ledger = "trimtab-purpleflea.db"',
              '# Orders under this many USD are not sent (the API hides lot sizes).', 'min_order_usd = 10.0', '']
    return "\n".join(lines)


def purpleflea_wallet_section(*, api_url: str | None, key_file: str | None, chains: tuple[str, ...]) -> str:
    """The ``[venue]`` section of a Purple Flea wallet config; the key stays in the environment or a 0600 file."""
    lines = ['[venue]',
             '# "purpleflea-wallet": a Purple Flea wallet on several chains, traded and bridged by Wagyu swaps.',
             'kind = "purpleflea-wallet"',
             '# The key comes from the environment variable PURPLEFLEA_WALLET_KEY, or from key_file (chmod 600).']
    if key_file:
        lines.append(f'key_file = "{key_file}"')
    if api_url:
        lines += ['# Tests only: the wallet API at this address instead of https://wallet.purpleflea.com.',
                  f'api_url = "{api_url}"']
    lines += ['# The chains whose balances count (ETH and USDC on ethereum and base; SOL on solana).',
              "chains = [" + ", ".join(f'"{c}"' for c in chains) + "]",
              '# Seconds between status checks of a swap, doubling while it travels (at most 8x).',
              'poll_seconds = 10.0',
              '# Status checks a minute at most: Wagyu allows 20 per server, shared by every client.',
              'status_per_minute = 10',
              "# Wagyu's status words (the API does not name them): completed, failed, refunded or expired.",
              '# Any other word is pending, and the destination balance decides when it arrived.',
              'swap_states = { completed = "completed", failed = "failed", refunded = "refunded", '
              'expired = "expired" }',
              '# How long one order waits for its swap before the run pauses (it resumes the wait later).',
              'swap_timeout = "1h"',
              "# The venue's record of its swaps (the API takes no client id), next to this file.",
              'ledger = "trimtab-purpleflea.db"', '']
    return "\n".join(lines)
