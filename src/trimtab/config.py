"""The config: one typed object loaded from TOML, validated by pydantic, passed down explicitly.

Secrets never live in the file: a venue names the environment variables that hold them, and
:func:`read_secret` returns a ``SecretStr`` that prints as ``**********``.
"""

from __future__ import annotations

import os
import tomllib
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)

from trimtab.core.assets import Targets, asset_symbol, quote_symbol
from trimtab.core.durations import parse_duration
from trimtab.core.plan import Mode
from trimtab.core.policy import PolicyKind, PolicySpec
from trimtab.core.triggers import Period
from trimtab.errors import ConfigError, InputError

DEFAULT_CONFIG = "trimtab.toml"


def _as_value_error(function, *args):  # type: ignore[no-untyped-def]
    """Run ``function``; turn an InputError into the ValueError pydantic reports against a key."""
    try:
        return function(*args)
    except InputError as e:
        raise ValueError(str(e)) from None


def _duration(value: str) -> str:
    _as_value_error(parse_duration, value)
    return value


#: A duration as users write it (30s, 15m, 1h, 2d, 1w), checked when the config loads.
Duration = Annotated[str, AfterValidator(_duration)]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PortfolioConfig(_Section):
    name: str = Field("main", min_length=1, max_length=64)
    quote: str = "USDC"
    targets: dict[str, float]

    @field_validator("quote")
    @classmethod
    def _quote(cls, value: str) -> str:
        return _as_value_error(quote_symbol, value)

    @model_validator(mode="after")
    def _targets(self) -> PortfolioConfig:
        _as_value_error(Targets.of, self.targets, self.quote)
        return self

    def to_targets(self) -> Targets:
        return Targets.of(self.targets, self.quote)


class PolicyConfig(_Section):
    kind: Literal["threshold", "calendar", "combined", "never"] = "combined"
    band: float | None = Field(0.05, gt=0, lt=1)
    relative_band: float | None = Field(None, gt=0, lt=1)
    emergency_band: float | None = Field(0.15, gt=0, lt=1)
    schedule: Literal["daily", "weekly", "monthly", "quarterly"] | None = "monthly"
    check_every: Duration = "1h"
    cooldown: Duration = "0s"

    @model_validator(mode="after")
    def _consistent(self) -> PolicyConfig:
        _as_value_error(self.to_spec)
        return self

    def to_spec(self) -> PolicySpec:
        return PolicySpec(
            kind=PolicyKind(self.kind),
            band=self.band,
            relative_band=self.relative_band,
            emergency_band=self.emergency_band if self.kind == "combined" else None,
            schedule=Period(self.schedule) if self.schedule else None,
            check_every=parse_duration(self.check_every),
            cooldown=parse_duration(self.cooldown),
        )


class TradingConfig(_Section):
    mode: Literal["target", "band-edge"] = "target"
    min_trade: float = Field(10.0, ge=0)
    fee: float = Field(0.001, ge=0, lt=1)
    direct_pairs: bool = True

    @property
    def plan_mode(self) -> Mode:
        return Mode(self.mode)


class VenueConfig(_Section):
    """Where holdings and prices come from, and where orders go.

    ``static``: fixed numbers written in this file (nothing can be traded).
    ``paper``: the simulated exchange in the SQLite file ``account`` (next to this file unless
    absolute), with chains and bridges; ``markets`` names the chain each asset trades on; prices
    come from the ``prices`` table (``price_source = "fixed"``), the shipped history (``"history"``)
    or, read-only, from the venue of another config file ``price_from`` (``"venue"``: paper
    trading at live prices; nothing is ever sent to that venue).
    ``ccxt``: a spot account on ``exchange`` (a ccxt id such as "binance"); the API key and secret are
    read from the environment variables named by ``api_key_env`` and ``secret_env``.
    ``api_url`` replaces the exchange's REST host: for tests against a local fake server only.
    ``purpleflea-trading``: Hyperliquid perps through Purple Flea's trading API (``api_url``,
    default https://trading.purpleflea.com; ``hyperliquid_url`` for the account's value); the key
    comes from ``key_env`` (default PURPLEFLEA_TRADING_KEY) or from ``key_file`` (mode 0600);
    ``ledger`` is the venue's record of its writes, next to this file.

    ``purpleflea-wallet``: a Purple Flea wallet on ``chains`` (``api_url`` default
    https://wallet.purpleflea.com; key from ``key_env``, default PURPLEFLEA_WALLET_KEY, or
    ``key_file``); swaps are polled every ``poll_seconds``.
    """

    kind: Literal["static", "paper", "ccxt", "purpleflea-trading", "purpleflea-wallet"] = "static"
    chains: tuple[str, ...] = ("base", "ethereum", "solana")
    poll_seconds: float = Field(10.0, gt=0)
    swap_timeout: str = "1h"
    key_env: str | None = None
    key_file: str | None = None
    hyperliquid_url: str = "https://api.hyperliquid.xyz"
    ledger: str = "trimtab-purpleflea.db"
    min_order_usd: float = Field(10.0, gt=0)
    exchange: str | None = None
    api_key_env: str = "TRIMTAB_API_KEY"
    secret_env: str = "TRIMTAB_API_SECRET"
    api_url: str | None = None
    timeout_ms: int = Field(10_000, gt=0)
    holdings: dict[str, float] = Field(default_factory=dict)
    prices: dict[str, float] = Field(default_factory=dict)
    account: str = "trimtab-paper.db"
    order_latency: float = Field(0.0, ge=0)
    slippage_bps: float = Field(5.0, ge=0)
    bridge_fee: float = Field(0.0005, ge=0, lt=1)
    bridge_minutes: tuple[float, float] = (2.0, 15.0)
    clock_speed: float = Field(60.0, ge=0)
    price_source: Literal["fixed", "history", "venue"] = "fixed"
    price_from: str | None = None
    markets: dict[str, str] = Field(default_factory=dict)
    min_notional: float = Field(10.0, ge=0)

    @field_validator("holdings", "prices", "markets")
    @classmethod
    def _symbols(cls, value: dict) -> dict:
        return {_as_value_error(asset_symbol, k): v for k, v in value.items()}

    @model_validator(mode="after")
    def _exchange(self) -> VenueConfig:
        if self.kind == "ccxt" and not self.exchange:
            raise ValueError('kind "ccxt" needs exchange, e.g. exchange = "binance"')
        if self.price_source == "venue" and not self.price_from:
            raise ValueError('price_source "venue" needs price_from: the config file of the venue to read prices from')
        if self.price_source == "venue" and self.clock_speed != 1:
            raise ValueError('price_source "venue" reads live prices, so clock_speed must be 1')
        return self

    @field_validator("bridge_minutes")
    @classmethod
    def _minutes(cls, value: tuple[float, float]) -> tuple[float, float]:
        if not 0 <= value[0] <= value[1]:
            raise ValueError("give [low, high] minutes with 0 <= low <= high, e.g. [2, 15]")
        return value


class ExecutionConfig(_Section):
    """Guards checked before any order, and the kill switch (see docs/EXECUTION.md)."""

    max_price_age: Duration = "5m"
    max_price_move: float = Field(0.02, gt=0, lt=1)
    max_run_value: float | None = Field(None, gt=0)
    max_daily_value: float | None = Field(None, gt=0)
    kill_switch: bool = False
    kill_file: str = "trimtab.stop"
    transfer_timeout: Duration = "2h"


class AgentConfig(_Section):
    """Guardrails for agents (MCP tools, ``Rebalancer``); enforced in ``engine/approvals.py``.

    ``allowed_assets``: the assets a plan may trade (default: the targets' assets);
    ``allowed_venues``: the venue kinds an agent may execute on; ``require_approval``: a person
    runs ``trimtab approve PLAN_ID`` before a plan can execute; ``plan_ttl``: how long a plan
    stays executable; ``max_backtest_*``: bounds on the ``run_backtest`` tool;
    ``max_calls_per_minute``: MCP tool calls beyond this in any 60 s are refused (a runaway loop);
    ``http_token_env``: the environment variable holding the MCP HTTP bearer token.
    """

    allowed_assets: list[str] | None = None
    allowed_venues: list[Literal["static", "paper"]] = Field(default_factory=lambda: ["paper"])
    require_approval: bool = False
    plan_ttl: str = "15m"
    max_backtest_bars: int = Field(50_000, gt=0, le=1_000_000)
    max_backtest_assets: int = Field(10, gt=0, le=50)
    max_backtest_seconds: float = Field(20.0, gt=0, le=600)
    max_calls_per_minute: int = Field(120, gt=0, le=100_000)
    http_token_env: str = Field("TRIMTAB_MCP_TOKEN", pattern=r"^[A-Z_][A-Z0-9_]{0,63}$")

    @field_validator("allowed_assets")
    @classmethod
    def _assets(cls, value: list[str] | None) -> list[str] | None:
        return None if value is None else [_as_value_error(asset_symbol, a) for a in value]

    @field_validator("plan_ttl")
    @classmethod
    def _ttl(cls, value: str) -> str:
        if _as_value_error(parse_duration, value) <= timedelta(0):
            raise ValueError("plan_ttl must be positive, e.g. 15m")
        return value


class DashboardConfig(_Section):
    """``trimtab serve``: ``allow_rebalance`` shows a "rebalance now" button that plans and then
    executes by plan id through the same guardrails as the MCP tools (``[agent]``, caps, kill switch)."""

    allow_rebalance: bool = False


class JournalConfig(_Section):
    url: str = "sqlite:///trimtab.db"


class Config(_Section):
    portfolio: PortfolioConfig
    policy: PolicyConfig = Field(default_factory=PolicyConfig)
    trading: TradingConfig = Field(default_factory=TradingConfig)
    venue: VenueConfig = Field(default_factory=VenueConfig)
    execution: ExecutionConfig = Field(default_factory=ExecutionConfig)
    journal: JournalConfig = Field(default_factory=JournalConfig)
    agent: AgentConfig = Field(default_factory=AgentConfig)
    dashboard: DashboardConfig = Field(default_factory=DashboardConfig)

    @property
    def targets(self) -> Targets:
        return self.portfolio.to_targets()

    @property
    def check_every(self) -> timedelta:
        return parse_duration(self.policy.check_every)


def load_config(path: str | os.PathLike[str] | None = None) -> tuple[Config, Path]:
    """Read and validate a config; return it with its resolved path.

    Raise ``ConfigError`` naming the file, the key and what was expected.
    """
    file = Path(path or DEFAULT_CONFIG)
    if not file.exists():
        raise ConfigError(f"No config at {file}: create one with `trimtab init`, or pass --config PATH.")
    try:
        raw = tomllib.loads(file.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{file}: not valid TOML: {e}.") from None
    except OSError as e:
        raise ConfigError(f"{file}: cannot be read: {e.strerror}.") from None
    try:
        return Config.model_validate(raw), file.resolve()
    except ValidationError as e:
        raise ConfigError(f"{file}: {_first_problem(e)}") from None


def read_secret(variable: str) -> SecretStr:
    """The secret in environment variable ``variable``; raise ``ConfigError`` if it is unset."""
    value = os.environ.get(variable)
    if not value:
        raise ConfigError(f"The environment variable {variable} is not set; export it with your key.")
    return SecretStr(value)


def read_key_file(path: Path) -> SecretStr:
    """The key in ``path``, which only its owner may read (mode 0600); raise ``ConfigError`` otherwise."""
    try:
        mode = path.stat().st_mode
    except OSError as e:
        raise ConfigError(f"The key file {path} cannot be read: {e.strerror}.") from None
    if mode & 0o077:
        raise ConfigError(f"The key file {path} can be read by others (mode {mode & 0o777:o}); run chmod 600 {path}.")
    value = path.read_text(encoding="utf-8").strip()
    if not value:
        raise ConfigError(f"The key file {path} is empty.")
    return SecretStr(value)


def _first_problem(error: ValidationError) -> str:
    problems = error.errors()
    first = problems[0]
    key = ".".join(str(part) for part in first["loc"]) or "(top level)"
    message = first["msg"].removeprefix("Value error, ")
    if first["type"] == "extra_forbidden":
        message = "unknown key (check its spelling)"
    elif first["type"] == "missing":
        message = "missing: this key is required"
    elif "input" in first and not isinstance(first["input"], dict):
        message = f"{message} (got {first['input']!r})"
    more = f" ({len(problems) - 1} more problem{'s' if len(problems) > 2 else ''})" if len(problems) > 1 else ""
    return f"{key}: {message}{more}"

