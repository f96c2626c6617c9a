"""The config: one typed object loaded from TOML, validated by pydantic, passed down explicitly.

Secrets never live in the file: a venue names the environment variables that hold them, and
:func:`read_secret` returns a ``SecretStr`` that prints as ``**********``.
"""

from __future__ import annotations

import os
import tomllib
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, Literal, get_args, get_origin

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
from trimtab.errors import ConfigError, InputError, register_secret

DEFAULT_CONFIG = "trimtab.toml"


def _as_value_error(function, *args):  # type: ignore[no-untyped-def]
    """Run ``function``; turn an InputError into the ValueError pydantic reports against a key."""
    try:
        return function(*args)
    except InputError as e:
        raise ValueError(str(e)) from None


def duration(low: str, high: str) -> Any:
    """A duration as users write it (30s, 15m, 1h, 2d, 1w), checked when the config loads to lie
    between ``low`` and ``high`` inclusive."""
    bounds = parse_duration(low), parse_duration(high)

    def check(value: str) -> str:
        try:
            period = parse_duration(value)
        except InputError:
            period = None
        if period is None or not bounds[0] <= period <= bounds[1]:
            raise ValueError(f"must be a duration from {low} to {high}, such as 30s, 15m, 1h, 1d or 1w")
        return value

    return Annotated[str, AfterValidator(check)]


Interval = duration("1s", "52w")
Cooldown = duration("0s", "52w")
Timeout = duration("1s", "30d")
PriceAge = duration("1s", "7d")


class _Section(BaseModel):
    # NaN and infinity are never money, a rate or a time: every float must be finite.
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


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
    check_every: Interval = "1h"
    cooldown: Cooldown = "0s"
    cash_flows: Literal["steer", "ignore"] = "steer"

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
    min_trade: float = Field(10.0, ge=0, le=1e12)
    fee: float = Field(0.001, ge=0, le=0.1)
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
    ``key_file``); swaps are polled every ``poll_seconds`` (doubling while they travel), at most
    ``status_per_minute`` status reads a minute (Wagyu allows 20, shared by every client of the
    server); ``swap_states`` maps Wagyu's status words (unspecified by the API) to ``completed``,
    ``failed``, ``refunded`` or ``expired``: any other word is pending, confirmed by balance.
    """

    kind: Literal["static", "paper", "ccxt", "purpleflea-trading", "purpleflea-wallet"] = "static"
    chains: tuple[str, ...] = ("base", "ethereum", "solana")
    poll_seconds: float = Field(10.0, gt=0, le=3600)
    swap_timeout: Timeout = "1h"
    status_per_minute: int = Field(10, ge=1, le=20)
    swap_states: dict[str, Literal["completed", "failed", "refunded", "expired"]] = Field(
        default_factory=lambda: {"completed": "completed", "failed": "failed", "refunded": "refunded",
                                 "expired": "expired"})
    key_env: str | None = None
    key_file: str | None = None
    hyperliquid_url: str = "https://api.hyperliquid.xyz"
    ledger: str = "trimtab-purpleflea.db"
    min_order_usd: float = Field(10.0, gt=0, le=1e9)
    exchange: str | None = None
    api_key_env: str = "TRIMTAB_API_KEY"
    secret_env: str = "TRIMTAB_API_SECRET"
    api_url: str | None = None
    timeout_ms: int = Field(10_000, gt=0, le=600_000)
    holdings: dict[str, Annotated[float, Field(ge=0, le=1e15)]] = Field(default_factory=dict)
    prices: dict[str, Annotated[float, Field(gt=0, le=1e15)]] = Field(default_factory=dict)
    account: str = "trimtab-paper.db"
    order_latency: float = Field(0.0, ge=0, le=60)
    slippage_bps: float = Field(5.0, ge=0, le=1000)
    bridge_fee: float = Field(0.0005, ge=0, le=0.1)
    bridge_minutes: tuple[Annotated[float, Field(ge=0, le=10_080)], Annotated[float, Field(ge=0, le=10_080)]] = (2.0, 15.0)
    clock_speed: float = Field(60.0, ge=0, le=1_000_000)
    price_source: Literal["fixed", "history", "venue"] = "fixed"
    price_from: str | None = None
    markets: dict[str, str] = Field(default_factory=dict)
    min_notional: float = Field(10.0, ge=0, le=1e9)

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


class MemberVenueConfig(VenueConfig):
    """One venue of a portfolio across venues (``[[venues]]``): a ``[venue]`` table with a ``name``.

    ``name`` names its locations (``wallet:ethereum``). Guards of this venue alone, beside the
    ``[execution]`` ones for the whole portfolio: ``max_run_value``, ``max_daily_value`` (value
    traded on this venue), ``kill_switch`` and ``allowed_assets`` (what may trade here).
    Paper only: ``fee`` (this venue's taker fee, instead of ``[trading] fee``), ``move_fee`` (fraction
    of a move to another venue kept on the way),
    ``move_minutes`` ([low, high] simulated latency of such a move), and ``can_send`` /
    ``can_receive`` (false mirrors a venue whose API cannot move funds out / in, such as Purple
    Flea trading's Hyperliquid margin).
    """

    kind: Literal["paper", "ccxt", "purpleflea-trading", "purpleflea-wallet"] = "paper"  # type: ignore[assignment]
    name: str = Field(pattern=r"^[a-z][a-z0-9_-]{0,31}$")
    max_run_value: float | None = Field(None, gt=0, le=1e15)
    max_daily_value: float | None = Field(None, gt=0, le=1e15)
    kill_switch: bool = False
    allowed_assets: list[str] | None = None
    fee: float | None = Field(None, ge=0, le=0.1)
    move_fee: float = Field(0.001, ge=0, le=0.1)
    move_minutes: tuple[Annotated[float, Field(ge=0, le=10_080)], Annotated[float, Field(ge=0, le=10_080)]] = (5.0, 30.0)
    can_send: bool = True
    can_receive: bool = True

    @field_validator("allowed_assets")
    @classmethod
    def _allowed(cls, value: list[str] | None) -> list[str] | None:
        return None if value is None else [_as_value_error(asset_symbol, a) for a in value]

    @field_validator("move_minutes")
    @classmethod
    def _move_minutes(cls, value: tuple[float, float]) -> tuple[float, float]:
        if not 0 <= value[0] <= value[1]:
            raise ValueError("give [low, high] minutes with 0 <= low <= high, e.g. [5, 30]")
        return value


class ExecutionConfig(_Section):
    """Guards checked before any order, and the kill switch (see docs/EXECUTION.md)."""

    max_price_age: PriceAge = "5m"
    max_price_move: float = Field(0.02, gt=0, lt=1)
    max_run_value: float | None = Field(None, gt=0, le=1e15)
    max_daily_value: float | None = Field(None, gt=0, le=1e15)
    kill_switch: bool = False
    kill_file: str = "trimtab.stop"
    transfer_timeout: Timeout = "2h"
    max_withdrawal_value: float | None = Field(None, gt=0, le=1e15)
    withdraw_addresses: list[str] | None = None


class AgentConfig(_Section):
    """Guardrails for agents (MCP tools, ``Rebalancer``); enforced in ``engine/approvals.py``.

    ``allowed_assets``: the assets a plan may trade (default: the targets' assets);
    ``allowed_venues``: the venue kinds an agent may execute on; ``require_approval``: a person
    runs ``trimtab approve PLAN_ID`` before a plan can execute; ``plan_ttl``: how long a plan
    stays executable; ``max_backtest_*``: bounds on the ``run_backtest`` tool;
    ``max_calls_per_minute``: MCP tool calls beyond this in any 60 s are refused (a runaway loop);
    ``http_token_env``: the environment variable holding the MCP HTTP bearer token;
    ``allow_withdrawals``: an agent may pay funds out (the MCP ``withdraw`` tool, ``Rebalancer.withdraw``),
    only with ``[execution] max_withdrawal_value`` and ``withdraw_addresses`` set, to one of those addresses.
    """

    allowed_assets: list[str] | None = None
    allowed_venues: list[Literal["static", "paper"]] = Field(default_factory=lambda: ["paper"])
    require_approval: bool = False
    plan_ttl: Timeout = "15m"
    max_backtest_bars: int = Field(50_000, gt=0, le=1_000_000)
    max_backtest_assets: int = Field(10, gt=0, le=50)
    max_backtest_seconds: float = Field(20.0, gt=0, le=600)
    max_calls_per_minute: int = Field(120, gt=0, le=100_000)
    http_token_env: str = Field("TRIMTAB_MCP_TOKEN", pattern=r"^[A-Z_][A-Z0-9_]{0,63}$")
    allow_withdrawals: bool = False

    @field_validator("allowed_assets")
    @classmethod
    def _assets(cls, value: list[str] | None) -> list[str] | None:
        return None if value is None else [_as_value_error(asset_symbol, a) for a in value]


class DashboardConfig(_Section):
    """``trimtab serve``: ``allow_rebalance`` shows a "rebalance now" button that plans and then
    executes by plan id through the same guardrails as the MCP tools (``[agent]``, caps, kill switch)."""

    allow_rebalance: bool = False


class JournalConfig(_Section):
    url: str = "sqlite:///trimtab.db"


class AlertsConfig(_Section):
    """Where alerts go (``urls``: apprise URLs, e.g. ``json://host/hook``, ``tgram://token/chat``) and
    which ``events`` are sent (all but ``daily_summary`` by default; see docs/MONITORING.md).
    A URL may hold a token: it is kept as a ``SecretStr`` and never printed, logged or journaled.
    ``unreachable_after``: venue errors in a row before ``venue_unreachable`` is sent."""

    urls: list[SecretStr] = Field(default_factory=list)
    events: list[str] = Field(default_factory=lambda: list(_default_events()))
    unreachable_after: int = Field(3, ge=1, le=1000)
    queue_size: int = Field(100, ge=1, le=100_000)
    retries: int = Field(3, ge=0, le=20)
    timeout: float = Field(10.0, gt=0, le=300)

    @field_validator("events")
    @classmethod
    def _events(cls, value: list[str]) -> list[str]:
        from trimtab.engine.events import EVENT_KINDS

        unknown = [e for e in value if e not in EVENT_KINDS]
        if unknown:
            raise ValueError(f"unknown event {unknown[0]!r}; choose from {', '.join(EVENT_KINDS)}")
        return list(dict.fromkeys(value))


def _default_events() -> tuple[str, ...]:
    from trimtab.engine.events import DEFAULT_EVENT_KINDS

    return DEFAULT_EVENT_KINDS


class Config(_Section):
    portfolio: PortfolioConfig
    policy: PolicyConfig = Field(default_factory=PolicyConfig)
    trading: TradingConfig = Field(default_factory=TradingConfig)
    venue: VenueConfig = Field(default_factory=VenueConfig)
    venues: list[MemberVenueConfig] | None = None
    execution: ExecutionConfig = Field(default_factory=ExecutionConfig)
    journal: JournalConfig = Field(default_factory=JournalConfig)
    agent: AgentConfig = Field(default_factory=AgentConfig)
    alerts: AlertsConfig = Field(default_factory=AlertsConfig)
    dashboard: DashboardConfig = Field(default_factory=DashboardConfig)

    @model_validator(mode="after")
    def _venues(self) -> Config:
        if self.venues is None:
            return self
        if "venue" in self.model_fields_set:
            raise ValueError("give either one [venue] table or several [[venues]] tables, not both")
        if not self.venues:
            raise ValueError("[[venues]] is empty; declare at least one venue with a name and a kind")
        names = [v.name for v in self.venues]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(f"venue name {twice[0]!r} is given twice; each [[venues]] table needs its own name")
        paper = [v for v in self.venues if v.kind == "paper"]
        if paper and len(paper) != len(self.venues):
            raise ValueError("mix of paper and live venues; a portfolio's venues are either all paper or all live")
        accounts = [v.account for v in paper]
        shared = sorted({a for a in accounts if accounts.count(a) > 1})
        if shared:
            raise ValueError(f"paper account {shared[0]!r} is used by two venues; give each paper venue its own account")
        return self

    @property
    def members(self) -> list[tuple[str, VenueConfig]]:
        """The portfolio's venues as ``(name, config)``: the ``[[venues]]`` tables, or the one ``[venue]``
        (named after its kind)."""
        if self.venues is None:
            return [(self.venue.kind, self.venue)]
        return [(v.name, v) for v in self.venues]

    @property
    def multi_venue(self) -> bool:
        return self.venues is not None

    @property
    def venue_kind(self) -> str:
        """The venue kind for allow-lists: the one venue's kind, or the kind every member shares
        ("paper" for a paper portfolio across venues), else "multi"."""
        kinds = {v.kind for _, v in self.members}
        return kinds.pop() if len(kinds) == 1 else "multi"

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
    raw = _parse(file, _read_text(file))
    try:
        return Config.model_validate(raw), file.resolve()
    except ValidationError as e:
        raise ConfigError(f"{file}: {_first_problem(e)}") from None


def config_from_text(text: str, source: str | os.PathLike[str]) -> Config:
    """Validate a config's TOML ``text`` (a fleet keeps configs as text); ``source`` names it in
    the ``ConfigError``, as a file name does for ``load_config``."""
    file = Path(source)
    if len(text.encode()) > MAX_CONFIG_BYTES:
        raise ConfigError(f"{file}: a config is text of at most {MAX_CONFIG_BYTES:,} bytes.")
    try:
        return Config.model_validate(_parse(file, text))
    except ValidationError as e:
        raise ConfigError(f"{file}: {_first_problem(e)}") from None


#: A config larger than this is not one a person wrote (the template is about 5 KB).
MAX_CONFIG_BYTES = 1_000_000


def _read_text(file: Path) -> str:
    """The file's text; raise ``ConfigError`` if it cannot be read, is huge, or is not UTF-8 text."""
    try:
        if file.stat().st_size > MAX_CONFIG_BYTES:
            raise ConfigError(f"{file}: is {file.stat().st_size:,} bytes; a config is text of at most "
                              f"{MAX_CONFIG_BYTES:,} bytes.")
        data = file.read_bytes()
    except OSError as e:
        raise ConfigError(f"{file}: cannot be read: {e.strerror}.") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data[: e.start].count(b"\n") + 1
        raise ConfigError(f"{file}: line {line}{_key_on(data[: e.start].decode('utf-8', 'replace'), line)}: "
                          f"byte 0x{data[e.start]:02x} is not UTF-8 text; a config is UTF-8 TOML.") from None
    if "\x00" in text:
        line = text[: text.index("\x00")].count("\n") + 1
        raise ConfigError(f"{file}: line {line}{_key_on(text, line)}: a NUL byte; a config is UTF-8 TOML text, "
                          "not binary data.")
    return text


def _parse(file: Path, text: str) -> dict[str, Any]:
    """The TOML document; raise ``ConfigError`` naming the line (and key) of what cannot be read."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{file}: not valid TOML: {e}.") from None
    except RecursionError:
        line = _deepest_line(text)
        raise ConfigError(f"{file}: line {line}{_key_on(text, line)}: arrays or tables nested too deep; "
                          "a config nests a few levels at most.") from None
    except ValueError:  # an integer of more than 4,300 digits (Python's own limit)
        line = next((n for n, row in enumerate(text.splitlines(), 1) if _long_digits(row)), 0)
        raise ConfigError(f"{file}: line {line}{_key_on(text, line)}: a number thousands of digits long; "
                          "every number in a config has a far smaller range (see the comment above the key).") from None


def _long_digits(row: str) -> bool:
    run = 0
    for char in row:
        run = run + 1 if char.isdigit() else 0
        if run > 4000:
            return True
    return False


def _deepest_line(text: str) -> int:
    depth, deepest, where = 0, 0, 1
    for number, row in enumerate(text.splitlines(), 1):
        for char in row:
            depth += (char in "[{") - (char in "]}")
            if depth > deepest:
                deepest, where = depth, number
    return where


def _key_on(text: str, line: int) -> str:
    """`` (key name)`` for a ``name = ...`` on ``line`` of ``text``, else nothing."""
    rows = text.splitlines()
    if not 1 <= line <= len(rows):
        return ""
    name, sep, _ = rows[line - 1].partition("=")
    name = name.strip()
    return f" ({name[:64]})" if sep and name and len(name) <= 64 and name.replace(".", "").replace("_", "").replace("-", "").isalnum() else ""


def read_secret(variable: str) -> SecretStr:
    """The secret in environment variable ``variable``; raise ``ConfigError`` if it is unset."""
    value = os.environ.get(variable)
    if not value:
        raise ConfigError(f"The environment variable {variable} is not set; export it with your key.")
    register_secret(value)
    return SecretStr(value)


def read_key_file(path: Path) -> SecretStr:
    """The key in ``path``, which only its owner may read (mode 0600); raise ``ConfigError`` otherwise."""
    try:
        mode = path.stat().st_mode
    except OSError as e:
        raise ConfigError(f"The key file {path} cannot be read: {e.strerror}.") from None
    if mode & 0o077:
        raise ConfigError(f"The key file {path} can be read by others (mode {mode & 0o777:o}); run chmod 600 {path}.")
    try:
        value = path.read_text(encoding="utf-8").strip()
    except UnicodeDecodeError:
        raise ConfigError(f"The key file {path} is not text; it holds the key alone, as UTF-8 text.") from None
    except OSError as e:
        raise ConfigError(f"The key file {path} cannot be read: {e.strerror}.") from None
    if not value:
        raise ConfigError(f"The key file {path} is empty.")
    register_secret(value)
    return SecretStr(value)


def _first_problem(error: ValidationError) -> str:
    problems = error.errors()
    first = problems[0]
    message = first["msg"].removeprefix("Value error, ")
    key = ".".join(str(part) for part in first["loc"]) or ("[[venues]]" if "venue" in message else "(top level)")
    if first["type"] == "extra_forbidden":
        message = "unknown key" + _did_you_mean(first["loc"])
    elif first["type"] == "missing":
        message = "missing: this key is required"
    elif first["type"] in _BOUND_ERRORS and (allowed := _allowed(first["loc"])):
        message = f"must be {allowed}"
    if first["type"] not in ("missing", "extra_forbidden") and "input" in first and not isinstance(first["input"], dict):
        message = f"{message} (got {_shorten(repr(first['input']))})"
    more = f" ({len(problems) - 1} more problem{'s' if len(problems) > 2 else ''})" if len(problems) > 1 else ""
    return f"{key}: {message}{more}"



def _did_you_mean(loc: tuple) -> str:  # type: ignore[type-arg]
    """``"; did you mean band?"`` for an unknown key close to a known one of its section, else a
    plea to check the spelling that lists the section's keys."""
    import difflib

    model: type[BaseModel] = Config
    for part in loc[:-1]:  # walk down to the section that holds the unknown key
        if isinstance(part, int):  # an item of [[venues]]: its model is already the item's
            continue
        annotation = model.model_fields[str(part)].annotation if str(part) in model.model_fields else None
        if str(part) == "venues":
            annotation = MemberVenueConfig
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            return " (check its spelling)"
        model = annotation
    known = list(model.model_fields)
    close = difflib.get_close_matches(str(loc[-1]), known, n=1, cutoff=0.6)
    return f"; did you mean {close[0]}?" if close else f" (known keys: {', '.join(known)})"


_BOUND_ERRORS = {"greater_than", "greater_than_equal", "less_than", "less_than_equal", "finite_number"}


def _allowed(loc: tuple[int | str, ...]) -> str | None:
    """What a number at ``loc`` may be, from the bounds declared on its field (or on the items of a
    table or pair, such as ``venue.prices.BTC``): e.g. ``a finite number from 0 to 1000``; None when
    it has no bounds."""
    model: Any = Config
    metadata: list[Any] = []
    for part in loc:
        fields = getattr(model, "model_fields", None)
        if fields and part in fields:
            model, metadata = fields[part].annotation, list(fields[part].metadata)
            continue
        arguments = get_args(model)  # dict[str, Annotated[float, Field(...)]] or a tuple of them
        item = arguments[part] if isinstance(part, int) and part < len(arguments) else arguments[-1] if arguments else None
        if item is None or get_origin(item) is not Annotated:
            return None
        model = get_args(item)[0]
        metadata = [m for extra in get_args(item)[1:] for m in getattr(extra, "metadata", [extra])]
    low = high = None
    for bound in metadata:
        for name, words in (("ge", "at least"), ("gt", "above"), ("le", "at most"), ("lt", "below")):
            value = getattr(bound, name, None)
            if value is not None and name in ("ge", "gt"):
                low = (name, f"{words} {value:g}", value)
            elif value is not None:
                high = (name, f"{words} {value:g}", value)
    if low and high and low[0] == "ge" and high[0] == "le":
        return f"a finite number from {low[2]:g} to {high[2]:g}"
    if low or high:
        return "a finite number " + " and ".join(part[1] for part in (low, high) if part)
    return None


def _shorten(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."
