"""Wiring: from a validated config to the venue, journal, guards and agent it describes.

Relative paths in the config (the paper account, a SQLite journal, the kill file, the lock) are
resolved next to the config file, so a portfolio is one directory.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import SecretStr

from trimtab.config import Config, MemberVenueConfig, VenueConfig
from trimtab.core.durations import parse_duration
from trimtab.engine.agent import Agent, Strategy
from trimtab.engine.executor import Executor
from trimtab.engine.guards import Guards
from trimtab.errors import InputError
from trimtab.venues.base import Venue
from trimtab.venues.paper import PaperVenue
from trimtab.venues.paper_store import PaperSettings

if TYPE_CHECKING:
    from trimtab.journal import Journal


def beside(config_path: Path, name: str) -> Path:
    """``name`` resolved next to the config file unless absolute."""
    path = Path(name)
    return path if path.is_absolute() else config_path.parent / path


def journal_url(config: Config, config_path: Path) -> str:
    """The journal URL; a relative SQLite file lives next to the config."""
    url = config.journal.url
    prefix = "sqlite:///"
    if (url.startswith(prefix) and not url.startswith(prefix + "/") and url != prefix + ":memory:"
            and not url.startswith(prefix + "file:")):  # a SQLite URI (file:/path?mode=ro&uri=true) is kept as written
        return prefix + str(beside(config_path, url[len(prefix):]))
    return url


def paper_settings(venue: VenueConfig, fee: float, quote: str) -> PaperSettings:
    moves = {}
    if isinstance(venue, MemberVenueConfig):
        fee = venue.fee if venue.fee is not None else fee
        moves = {"move_fee": venue.move_fee, "move_minutes": tuple(venue.move_minutes), "can_send": venue.can_send,
                 "can_receive": venue.can_receive}
    return PaperSettings(quote=quote, fee=fee, slippage_bps=venue.slippage_bps, order_latency=venue.order_latency,
                         bridge_fee=venue.bridge_fee, bridge_minutes=tuple(venue.bridge_minutes),
                         clock_speed=venue.clock_speed, price_source=venue.price_source, **moves)


def member_config(config: Config, name: str) -> Config:
    """The config seen by one venue of a portfolio across venues: its ``[[venues]]`` table as ``[venue]``."""
    table = next(v for n, v in config.members if n == name)
    return config.model_copy(update={"venue": table, "venues": None})


def open_paper(config: Config, config_path: Path) -> Venue:
    """The paper account the config names, with the config's settings (a paper portfolio across
    venues: the composite of its paper accounts)."""
    if config.multi_venue and config.venue_kind == "paper":
        return open_venue(config, config_path)
    if config.venue.kind != "paper":
        raise InputError(f"{config_path} uses the {config.venue.kind} venue, which cannot trade; "
                         "create a paper portfolio with `trimtab init --venue paper`.")
    settings = paper_settings(config.venue, config.trading.fee, config.portfolio.quote)
    return PaperVenue(beside(config_path, config.venue.account), settings, price_feed=price_feed(config, config_path))


def price_feed(config: Config, config_path: Path) -> Venue | None:
    """The venue a paper account reads its prices from (``price_source = "venue"``), or None.

    It is opened from its own config file, so its keys and URL stay there; only its ``prices``
    is ever called.
    """
    if config.venue.price_source != "venue" or not config.venue.price_from:
        return None
    from trimtab.config import load_config

    source, source_path = load_config(beside(config_path, config.venue.price_from))
    if source.venue.kind in ("static", "paper"):
        raise InputError(f"{source_path} uses the {source.venue.kind} venue; price_from must name a live venue "
                         "(ccxt or purpleflea) to read prices from.")
    return open_venue(source, source_path)


def open_venue(config: Config, config_path: Path) -> Venue:
    """The venue the config names (paper or ccxt; a ``CompositeVenue`` for ``[[venues]]``); raise
    ``InputError`` for one that cannot trade and ``ConfigError`` when a key's environment variable is unset."""
    if config.multi_venue:
        return open_composite(config, config_path)
    if config.venue.kind == "purpleflea-trading":
        return open_purpleflea_trading(config, config_path)
    if config.venue.kind == "purpleflea-wallet":
        return open_purpleflea_wallet(config, config_path)
    if config.venue.kind != "ccxt":
        return open_paper(config, config_path)
    from trimtab.config import read_secret
    from trimtab.venues.ccxt_venue import CcxtVenue, make_exchange

    v = config.venue
    exchange = make_exchange(v.exchange or "", api_key=read_secret(v.api_key_env), secret=read_secret(v.secret_env),
                             api_url=v.api_url, timeout_ms=v.timeout_ms)
    return CcxtVenue(exchange, quote=config.portfolio.quote, assets=config.targets.assets,
                     ledger=beside(config_path, v.ledger))


def open_composite(config: Config, config_path: Path) -> Venue:
    """The ``[[venues]]`` of the config as one ``CompositeVenue`` (each member opened as its own
    ``[venue]``); every member opened so far is closed when a later one cannot be."""
    from trimtab.errors import ConfigError
    from trimtab.venues.composite import CompositeVenue

    members: dict[str, Venue] = {}
    try:
        for name, table in config.members:
            if table.kind == "paper" and not beside(config_path, table.account).exists():
                raise ConfigError(f"Venue {name}: no paper account at {beside(config_path, table.account)}; create the "
                                  "accounts of a paper portfolio across venues with "
                                  "trimtab.paper_setup.init_paper_venues (docs/VENUES.md).")
            members[name] = open_venue(member_config(config, name), config_path)
    except BaseException:
        for venue in members.values():
            if hasattr(venue, "close"):
                venue.close()
        raise
    return CompositeVenue(members, quote=config.portfolio.quote, kinds={n: v.kind for n, v in config.members})


def purpleflea_key(config: Config, config_path: Path, default_env: str) -> SecretStr:
    """The Purple Flea key: from ``key_file`` (0600, next to the config) or the environment."""
    from trimtab.config import read_key_file, read_secret

    if config.venue.key_file:
        return read_key_file(beside(config_path, config.venue.key_file))
    return read_secret(config.venue.key_env or default_env)


def open_purpleflea_trading(config: Config, config_path: Path) -> Venue:
    """The Purple Flea trading venue the config names."""
    from trimtab.venues.purpleflea_http import PurpleFleaClient
    from trimtab.venues.purpleflea_ledger import Ledger
    from trimtab.venues.purpleflea_trading import PurpleFleaTradingVenue

    v = config.venue
    key = purpleflea_key(config, config_path, "PURPLEFLEA_TRADING_KEY")
    api = PurpleFleaClient(v.api_url or "https://trading.purpleflea.com", key, timeout=v.timeout_ms / 1000)
    hyperliquid = PurpleFleaClient(v.hyperliquid_url, None, timeout=v.timeout_ms / 1000)
    return PurpleFleaTradingVenue(api, hyperliquid, Ledger(beside(config_path, v.ledger)),
                                  quote=config.portfolio.quote, assets=config.targets.assets,
                                  min_order_usd=v.min_order_usd)


def open_purpleflea_wallet(config: Config, config_path: Path) -> Venue:
    """The Purple Flea wallet venue the config names."""
    from trimtab.venues.purpleflea_http import PurpleFleaClient
    from trimtab.venues.purpleflea_ledger import Ledger
    from trimtab.venues.purpleflea_wallet import PurpleFleaWalletVenue

    v = config.venue
    key = purpleflea_key(config, config_path, "PURPLEFLEA_WALLET_KEY")
    api = PurpleFleaClient(v.api_url or "https://wallet.purpleflea.com", key, timeout=v.timeout_ms / 1000)
    return PurpleFleaWalletVenue(api, Ledger(beside(config_path, v.ledger)), quote=config.portfolio.quote,
                                 assets=config.targets.assets, chains=v.chains, markets=v.markets,
                                 poll_seconds=v.poll_seconds, status_per_minute=v.status_per_minute,
                                 swap_states=v.swap_states,
                                 swap_timeout=parse_duration(v.swap_timeout).total_seconds())


def guards(config: Config, config_path: Path) -> Guards:
    from trimtab.engine.guards import VenueGuard

    e = config.execution
    venues = None
    if config.venues is not None:  # each venue's own limits beside the portfolio's
        venues = {v.name: VenueGuard(max_run_value=v.max_run_value, max_daily_value=v.max_daily_value,
                                     kill_switch=v.kill_switch,
                                     allowed_assets=None if v.allowed_assets is None else frozenset(v.allowed_assets))
                  for v in config.venues}
    return Guards(max_price_age=parse_duration(e.max_price_age), max_price_move=e.max_price_move,
                  max_run_value=e.max_run_value, max_daily_value=e.max_daily_value, kill_switch=e.kill_switch,
                  kill_file=beside(config_path, e.kill_file), max_withdrawal_value=e.max_withdrawal_value,
                  withdraw_addresses=None if e.withdraw_addresses is None else frozenset(e.withdraw_addresses),
                  venues=venues)


def strategy(config: Config) -> Strategy:
    return Strategy(targets=config.targets, policy=config.policy.to_spec(), mode=config.trading.plan_mode,
                    fee=config.trading.fee, min_trade=config.trading.min_trade,
                    direct_pairs=config.trading.direct_pairs, cash_flows=config.policy.cash_flows)


def open_journal(config: Config, config_path: Path, *, new_journal: bool = False, engine=None,  # type: ignore[no-untyped-def]
                 read_only: bool = False) -> Journal:
    """The config's journal, migrated and held to its marker beside the config: a portfolio that has
    traded refuses a journal with no record of it unless ``new_journal`` (see ``JournalMarker.hold``).

    ``engine``: an open, migrated engine on the config's journal database, shared by the caller (a
    fleet worker keeps one connection pool for thousands of portfolios); it is not disposed here.
    ``read_only``: the caller only reads (``status``): a SQLite journal already at the newest schema
    is read through ``SqliteReader`` (no SQLAlchemy import, issue 16's start-up budget)."""
    from trimtab.journal.marker import JournalMarker

    url = journal_url(config, config_path)
    journal = None
    if read_only and engine is None:
        from trimtab.journal.sqlite_reader import SqliteReader

        journal = SqliteReader.open(url)
    if journal is None:
        from trimtab.journal.store import Journal

        journal = Journal(engine) if engine is not None else Journal.open(url)
    try:
        journal.check_marker(JournalMarker.beside(config_path), config.portfolio.name, new_journal=new_journal)
    except BaseException:
        if engine is None:
            journal.close()
        raise
    return journal  # type: ignore[return-value]


def build_agent(config: Config, config_path: Path, *, new_journal: bool = False, engine=None,  # type: ignore[no-untyped-def]
                read_only: bool = False) -> Agent:
    """The agent for a config: venue, journal (migrated, held to its marker; on ``engine`` when the
    caller shares one, see ``open_journal``), executor with guards, and lock. ``read_only``: for a
    caller that only reads (see ``open_journal``); such an agent must not be asked to trade."""
    venue = open_venue(config, config_path)
    journal = open_journal(config, config_path, new_journal=new_journal, engine=engine, read_only=read_only)
    executor = Executor(venue, journal, portfolio=config.portfolio.name, quote=config.portfolio.quote,
                        guards=guards(config, config_path),
                        transfer_timeout=parse_duration(config.execution.transfer_timeout))
    return Agent(venue, journal, strategy(config), executor, beside(config_path, "trimtab.lock"))


def guardrails(config: Config):  # type: ignore[no-untyped-def]
    """The agent guardrails the config's ``[agent]`` section describes."""
    from trimtab.engine.approvals import Guardrails

    a = config.agent
    return Guardrails(venue=config.venue_kind, allowed_venues=frozenset(a.allowed_venues),
                      allowed_assets=frozenset(a.allowed_assets) if a.allowed_assets is not None else None,
                      require_approval=a.require_approval, plan_ttl=parse_duration(a.plan_ttl),
                      allow_withdrawals=a.allow_withdrawals)


def build_desk(config: Config, config_path: Path, *, new_journal: bool = False):  # type: ignore[no-untyped-def]
    """The plan desk (stored plans, approvals, guardrails) over the config's agent."""
    from trimtab.engine.approvals import PlanDesk

    return PlanDesk(build_agent(config, config_path, new_journal=new_journal), guardrails(config))


def watch_agent(agent: Agent, config: Config, observer=None) -> None:  # type: ignore[no-untyped-def]
    """Give ``agent`` a watch: its steps become events (journaled conditions, venue errors and
    refusals that the metrics count) told to ``observer`` (an alert sender, or nobody)."""
    from trimtab.engine.events import Watch

    class Nobody:
        def notify(self, event) -> None:  # type: ignore[no-untyped-def]
            pass

    agent.watch = Watch(agent.journal, config.portfolio.name, observer or Nobody(),
                        emergency_band=config.policy.emergency_band, unreachable_after=config.alerts.unreachable_after,
                        guards=agent.executor.guards)


def start_alerts(agent: Agent, config: Config):  # type: ignore[no-untyped-def]
    """Watch ``agent`` (events journaled for the metrics) and, when ``[alerts] urls`` are set, send
    its events from a background sender; return the sender or None. What the CLI's ``run`` and
    ``rebalance``, the MCP tools and the Python API (``Rebalancer``, ``trimtab.rebalance``) share."""
    sender = None
    if config.alerts.urls:
        from trimtab.monitor.alerts import sender_from_config

        sender = sender_from_config(config.alerts)
    watch_agent(agent, config, sender)
    return sender


def stop_alerts(senders) -> None:  # type: ignore[no-untyped-def]
    """Give queued alerts up to ``[alerts] timeout`` seconds to go out (``senders`` may hold None)."""
    for sender in senders:
        if sender is not None:
            sender.close(wait=sender.wait_on_close)
