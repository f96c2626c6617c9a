"""Helpers that build the Purple Flea trading venue on the fakes of ``fakes.purpleflea``."""

from __future__ import annotations

from pathlib import Path

from fakes.purpleflea_trading import TRADING_KEY
from pydantic import SecretStr

from trimtab.core.plan import Side
from trimtab.venues.purpleflea_http import PurpleFleaClient
from trimtab.venues.purpleflea_ledger import Ledger
from trimtab.venues.purpleflea_trading import PurpleFleaTradingVenue


def trading_venue(trading, tmp_path: Path, *, key: str = TRADING_KEY) -> PurpleFleaTradingVenue:
    api = PurpleFleaClient(trading.url, SecretStr(key), timeout=3, backoff=0.01)
    hyperliquid = PurpleFleaClient(trading.url, None, timeout=3, backoff=0.01)
    return PurpleFleaTradingVenue(api, hyperliquid, Ledger(tmp_path / "purpleflea.db"), assets=["BTC", "ETH", "SOL"])


def seed_positions(venue: PurpleFleaTradingVenue) -> None:
    """Longs worth about 4,000 USDC of BTC and 2,000 of ETH, out of the fake's 10,000 USDC."""
    venue.place_order("BTC", Side.BUY, quote_amount=4000.0, client_order_id="seed-btc")
    venue.place_order("ETH", Side.BUY, quote_amount=2000.0, client_order_id="seed-eth")


WALLET_HOLDINGS = {("base", "ETH"): 1.0, ("base", "USDC"): 500, ("ethereum", "USDC"): 1500, ("ethereum", "ETH"): 0.01,
                   ("solana", "SOL"): 10}


def fund_wallet(wallet) -> dict:
    """A wallet (made without HTTP) holding ETH and USDC on base, USDC on ethereum and SOL on solana."""
    created = wallet.create_wallet()
    for (chain, asset), amount in WALLET_HOLDINGS.items():
        wallet.set_balance(chain, created["addresses"][chain], asset, amount)
    return created


class RunningClock:
    """Moves the fakes' clock ``rate`` seconds per real second in a thread, as a real wait would."""

    def __init__(self, clock, rate: float = 2000.0) -> None:
        import threading

        self.clock, self.rate, self._stop = clock, rate, threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(0.01):
            self.clock.advance(self.rate * 0.01)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


def wallet_venue(wallet, tmp_path: Path, *, key: str | None = None, **kw):
    from fakes.purpleflea_wallet import WALLET_KEY

    from trimtab.venues.purpleflea_wallet import PurpleFleaWalletVenue

    api = PurpleFleaClient(wallet.url, SecretStr(key or WALLET_KEY), timeout=3, backoff=0.01)
    return PurpleFleaWalletVenue(api, Ledger(tmp_path / "wallet-ledger.db"), assets=["ETH", "SOL"],
                                 wait=lambda s: __import__("time").sleep(0.01), poll_seconds=0.01, **kw)


def paced_wallet_venue(purpleflea, tmp_path: Path, *, assets=("ETH",), **kw):
    """The wallet venue on the fake's own clock: its waits advance the fake's time and take none of
    ours (a 3-minute bridge in milliseconds), polling at the production pace unless told otherwise."""
    from fakes.purpleflea_wallet import WALLET_KEY

    from trimtab.venues.purpleflea_wallet import PurpleFleaWalletVenue

    clock = purpleflea.clock
    api = PurpleFleaClient(purpleflea.wallet.url, SecretStr(WALLET_KEY), timeout=3, backoff=0.01, sleep=clock.sleep)
    settings = {"poll_seconds": 10.0, "swap_timeout": 3600.0, "chains": ("base", "ethereum"), **kw}
    return PurpleFleaWalletVenue(api, Ledger(tmp_path / "wallet-ledger.db"), assets=list(assets), wait=clock.sleep,
                                 clock=clock.time, **settings)


def paced_wallet_agent(purpleflea, tmp_path: Path):
    """An agent on ``paced_wallet_venue`` (ETH 50 / USDC 50, 5% band, the swap fee), its journal in
    ``tmp_path`` and the executor's production waits and 2-hour transfer timeout."""
    from datetime import timedelta

    from trimtab.core.assets import Targets
    from trimtab.core.policy import PolicyKind, PolicySpec
    from trimtab.engine.agent import Agent, Strategy
    from trimtab.engine.executor import Executor
    from trimtab.journal import Journal

    venue = paced_wallet_venue(purpleflea, tmp_path)
    journal = Journal.open(f"sqlite:///{tmp_path / 'journal.db'}")
    executor = Executor(venue, journal, transfer_timeout=timedelta(hours=2))
    strategy = Strategy(targets=Targets.of({"ETH": 0.5, "USDC": 0.5}),
                        policy=PolicySpec(kind=PolicyKind.THRESHOLD, band=0.05), fee=0.006)
    return Agent(venue, journal, strategy, executor, tmp_path / "trimtab.lock")


SWAP, SEND = ("/v1/wallet/swap", "POST"), ("/v1/wallet/send", "POST")
STATUS = "/v1/wallet/swap/status/"


def evm_wallet(purpleflea):
    """The wallet fake with one wallet holding 0.2 ETH and 20 USDC on base, 3,000 USDC and 0.01 ETH on
    ethereum; its EVM address is ``wallet.evm``."""
    created = purpleflea.wallet.create_wallet()
    evm = created["addresses"]["ethereum"]
    for chain, asset, amount in (("base", "ETH", "0.2"), ("base", "USDC", "20"), ("ethereum", "USDC", "3000"),
                                 ("ethereum", "ETH", "0.01")):
        purpleflea.wallet.set_balance(chain, evm, asset, amount)
    purpleflea.wallet.evm = evm
    return purpleflea.wallet


def held(wallet, chain: str, asset: str):
    """What the wallet fake holds of ``asset`` on ``chain`` at ``wallet.evm`` (a Decimal)."""
    return wallet.balance(chain, wallet.evm, asset)
