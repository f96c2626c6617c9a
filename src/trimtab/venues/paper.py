"""The paper venue: a simulated exchange with chains and bridges, persisted in one SQLite file.

Market orders fill at once at the current price made worse by ``slippage_bps``, pay the taker
fee in the quote, and are refused as a real exchange would (halted market, lot size, minimums,
funds). Each asset trades on its market's chain: a sell credits the quote on that chain, a buy
spends the quote held there. A bridge debits the source chain at once and credits
``amount - fee`` to the destination when the simulated clock passes its arrival time.

Orders and transfers are keyed by the caller's client id: asking again with a known id returns
the existing record and never fills or moves twice. Separate processes share one account through
the file; every write is one ``BEGIN IMMEDIATE`` transaction.
"""

from __future__ import annotations

import hashlib
import math
import time
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path

from trimtab.core.plan import Side
from trimtab.core.rules import MarketRules
from trimtab.errors import (
    BelowMinimum,
    ConfigError,
    InsufficientFunds,
    OrderRejected,
    UnknownOrder,
    Unsupported,
    VenueUnavailable,
)
from trimtab.venues import paper_store
from trimtab.venues.base import (
    Holding,
    InTransit,
    Market,
    Order,
    OrderStatus,
    Quote,
    Transfer,
    TransferStatus,
    Venue,
)
from trimtab.venues.paper_store import PaperSettings

#: Balances may miss by this much (relative) through float noise without refusing an order.
_FUNDS_TOLERANCE = 1e-9


def _ts(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, tz=UTC)


def _paper_address(address: str) -> tuple[Path, str] | None:
    """``paper:<account file>:<chain>`` -> (file, chain), else None."""
    if not address.startswith("paper:") or address.count(":") < 2:
        return None
    path, chain = address[len("paper:"):].rsplit(":", 1)
    return Path(path), chain


def _epoch(moment: datetime) -> float:
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


class PaperVenue:
    """A paper account in the SQLite file ``path`` (see the module docstring)."""

    def __init__(self, path: str | Path, settings: PaperSettings | None = None, *,
                 price_feed: Venue | None = None) -> None:
        """Open the account at ``path``; ``settings`` (from the config) replace the ones stored at
        creation for this handle only; ``price_feed`` is the venue whose quotes a ``venue`` price
        source reads (only its ``prices`` is called). Raise ``ConfigError`` when there is no account
        there, or when the price source is ``venue`` without a feed."""
        self.path = Path(path)
        if not self.path.exists():
            raise ConfigError(f"No paper account at {self.path}; create one with `trimtab init --venue paper`.")
        self._db = paper_store.connect(self.path)
        stored = paper_store.load_settings(self._db, self.path)
        self._db.executescript(paper_store.SCHEMA)  # accounts made by an older trimtab gain new tables
        self.settings = settings or stored
        self._history = None
        if self.settings.price_source == "venue" and price_feed is None:
            raise ConfigError("Paper venue: price_source venue needs another venue to read prices from (price_from).")
        self._price_feed = price_feed

    @classmethod
    def create(
        cls,
        path: str | Path,
        *,
        holdings: Mapping[str, Mapping[str, float]],
        prices: Mapping[str, float],
        markets: Mapping[str, Market],
        settings: PaperSettings | None = None,
        start: datetime | None = None,
    ) -> PaperVenue:
        """Create a new account: ``holdings`` is ``{asset: {chain: quantity}}``; raise ``ConfigError``
        if the file exists."""
        path = Path(path)
        if path.exists():
            raise ConfigError(f"{path} already exists; remove it or pass --force.")
        path.parent.mkdir(parents=True, exist_ok=True)
        db = paper_store.connect(path)
        db.executescript(paper_store.SCHEMA)
        with paper_store.write(db):
            paper_store.save_settings(db, settings or PaperSettings())
            sim = _epoch(start) if start else time.time()
            db.execute("INSERT INTO clock VALUES (1, ?, ?)", (sim, time.time()))
            for asset, chains in holdings.items():
                for chain, quantity in chains.items():
                    db.execute("INSERT INTO balances VALUES (?, ?, ?)", (asset, chain, float(quantity)))
            db.executemany("INSERT INTO prices VALUES (?, ?, NULL)", [(a, float(p)) for a, p in prices.items()])
            for market in markets.values():
                r = market.rules
                db.execute(
                    "INSERT INTO markets VALUES (?, ?, ?, ?, ?, ?, ?, 0)",
                    (market.asset, market.chain, r.amount_step, r.amount_precision, r.min_quantity,
                     r.min_notional, r.taker_fee),
                )
        db.close()
        return cls(path)

    def close(self) -> None:
        self._db.close()

    # -- clock -------------------------------------------------------------------------------

    def now(self) -> datetime:
        return _ts(self._now())

    def _now(self) -> float:
        sim, wall = self._db.execute("SELECT sim_anchor, wall_anchor FROM clock").fetchone()
        return sim + (time.time() - wall) * self.settings.clock_speed

    def advance(self, seconds: float) -> None:
        """Move the simulated clock forward by ``seconds`` (used by simulations to wait)."""
        with paper_store.write(self._db):
            self._db.execute("UPDATE clock SET sim_anchor = sim_anchor + ?", (float(seconds),))

    def set_time(self, moment: datetime) -> None:
        """Set the simulated clock to ``moment`` (a simulation replaying history)."""
        with paper_store.write(self._db):
            self._db.execute("UPDATE clock SET sim_anchor = ?, wall_anchor = ?", (_epoch(moment), time.time()))

    # -- reading -----------------------------------------------------------------------------

    def balances(self) -> tuple[Holding, ...]:
        self._settle()
        rows = self._db.execute("SELECT asset, chain, quantity FROM balances WHERE quantity > 0 ORDER BY asset, chain")
        return tuple(Holding(asset=a, chain=c, quantity=q) for a, c, q in rows)

    def in_transit(self) -> tuple[InTransit, ...]:
        """Bridges debited from their source chain and not yet credited to their destination, each
        as the quantity that will arrive (``amount - fee``). Call after ``balances()``: that call
        credits every bridge due, and this one does not, so nothing is counted twice."""
        rows = self._db.execute("SELECT client_id, asset, amount - fee, from_chain, to_chain, started_at FROM transfers "
                                "WHERE settled = 0 UNION ALL SELECT client_id, asset, amount - fee, chain, address, "
                                "started_at FROM sends WHERE delivered = 0 ORDER BY 6, 1").fetchall()
        return tuple(InTransit(asset=a, quantity=q, from_chain=f, to_chain=t, since=_ts(at), client_id=cid)
                     for cid, a, q, f, t, at in rows)

    def prices(self, assets: Iterable[str]) -> Mapping[str, Quote]:
        assets = [a for a in assets if a != self.settings.quote]
        if self.settings.price_source == "history":
            return self._history_prices(assets)
        if self._price_feed is not None and self.settings.price_source == "venue":
            return {a: q for a, q in self._price_feed.prices(assets).items() if a in assets}
        now = self.now()
        rows = {a: (p, at) for a, p, at in self._db.execute("SELECT asset, price, at FROM prices")}
        missing = [a for a in assets if a not in rows]
        if missing:
            raise OrderRejected(f"The paper venue has no price for {', '.join(missing)}.")
        return {a: Quote(price=rows[a][0], at=_ts(rows[a][1]) if rows[a][1] is not None else now) for a in assets}

    def markets(self) -> Mapping[str, Market]:
        rows = self._db.execute(
            "SELECT asset, chain, amount_step, amount_precision, min_quantity, min_notional, taker_fee FROM markets"
        )
        return {
            a: Market(asset=a, chain=c, rules=MarketRules(amount_step=s, amount_precision=p, min_quantity=mq,
                                                          min_notional=mn, taker_fee=f))
            for a, c, s, p, mq, mn, f in rows
        }

    # -- simulation controls -----------------------------------------------------------------

    def set_prices(self, prices: Mapping[str, float], at: datetime | None = None) -> None:
        """Replace prices in the fixed table; ``at`` None means "live" (stamped with the clock)."""
        stamp = _epoch(at) if at else None
        with paper_store.write(self._db):
            self._db.executemany(
                "INSERT OR REPLACE INTO prices VALUES (?, ?, ?)", [(a, float(p), stamp) for a, p in prices.items()]
            )

    def set_halted(self, asset: str, halted: bool = True) -> None:
        """Halt or resume trading in ``asset``'s market (orders are then rejected, as on an exchange)."""
        with paper_store.write(self._db):
            self._db.execute("UPDATE markets SET halted = ? WHERE asset = ?", (int(halted), asset))

    def set_outage(self, down: bool = True) -> None:
        """Simulate an outage: while down, every order, bridge and lookup raises ``VenueUnavailable``."""
        with paper_store.write(self._db):
            self._db.execute("INSERT OR REPLACE INTO controls VALUES ('outage', ?)", ("1" if down else "0",))

    def _check_up(self) -> None:
        row = self._db.execute("SELECT value FROM controls WHERE key = 'outage'").fetchone()
        if row and row[0] == "1":
            raise VenueUnavailable("The paper venue is unavailable (a simulated outage); try again later.",
                                   venue_message="503 Service Unavailable")

    # -- orders ------------------------------------------------------------------------------

    def place_order(
        self, asset: str, side: Side, *, quantity: float | None = None, quote_amount: float | None = None,
        client_order_id: str,
    ) -> Order:
        """Fill a market order at once; return the existing order for a known ``client_order_id``.

        Give exactly one of ``quantity`` (a multiple of the lot size) or ``quote_amount`` (a buy:
        the most to spend, fee included). Raise ``OrderRejected``, ``BelowMinimum`` or
        ``InsufficientFunds`` with the venue's words.
        """
        side = Side(side)
        self._check_up()
        existing = self._find_order(client_order_id)
        if existing is not None:
            return existing
        if (quantity is None) == (quote_amount is None):
            raise OrderRejected("Give exactly one of quantity or quote_amount.")
        self._sleep(self.settings.order_latency / 2)
        with paper_store.write(self._db):
            existing = self._find_order(client_order_id)
            if existing is not None:
                return existing
            order = self._fill(asset, side, quantity, quote_amount, client_order_id)
        self._sleep(self.settings.order_latency / 2)
        return order

    def get_order(self, client_order_id: str) -> Order:
        self._check_up()
        order = self._find_order(client_order_id)
        if order is None:
            raise UnknownOrder(f"The paper venue has no order {client_order_id}.")
        return order

    def _fill(self, asset: str, side: Side, quantity: float | None, quote_amount: float | None, cid: str) -> Order:
        row = self._db.execute("SELECT chain, halted FROM markets WHERE asset = ?", (asset,)).fetchone()
        if row is None:
            raise OrderRejected(f"The paper venue has no {asset}/{self.settings.quote} market.")
        chain, halted = row
        if halted:
            raise OrderRejected(f"market {asset}/{self.settings.quote} is halted; order {cid} rejected")
        market = self.markets()[asset]
        rules = market.rules
        mid = self.prices([asset])[asset].price
        slip = self.settings.slippage_bps / 10_000
        price = mid * (1 + slip) if side is Side.BUY else mid * (1 - slip)
        if not (math.isfinite(mid) and mid > 0 and math.isfinite(price) and price > 0):
            raise OrderRejected(f"{side} {asset} order {cid} would fill at {price:g} (price {mid:g}, slippage "
                                f"{self.settings.slippage_bps:g} bps); the paper venue fills only at a positive price")
        fee_rate = rules.taker_fee if rules.taker_fee is not None else self.settings.fee
        if quantity is None:
            if side is Side.SELL or quote_amount is None or not quote_amount > 0:
                raise OrderRejected("quote_amount is only for buys and must be positive.")
            quantity = float(rules.round_quantity(quote_amount / (price * (1 + fee_rate)), strict=True))
        elif not math.isclose(float(rules.round_quantity(quantity)), quantity, rel_tol=1e-12, abs_tol=1e-15):
            raise OrderRejected(f"quantity {quantity!r} is not a multiple of the {asset} lot size")
        if quantity <= 0 or quantity < rules.min_quantity:
            raise BelowMinimum(f"{asset} quantity {quantity:g} is below the minimum {rules.min_quantity:g}")
        value = quantity * price
        if quantity * mid < rules.min_notional:
            raise BelowMinimum(f"{asset} order notional {quantity * mid:.2f} is below the minimum {rules.min_notional:g}")
        fee = value * fee_rate
        if not (math.isfinite(value) and value > 0 and math.isfinite(fee) and fee >= 0):
            raise OrderRejected(f"{side} {asset} order {cid}: value {value:g} and fee {fee:g} cannot be money")
        quote = self.settings.quote
        if side is Side.SELL:
            self._debit(asset, chain, quantity)
            self._credit(quote, chain, value - fee)
        else:
            self._debit(quote, chain, value + fee)
            self._credit(asset, chain, quantity)
        at = self._now()
        self._db.execute(
            "INSERT INTO orders VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (cid, asset, str(side), chain, quantity, price, mid, value, fee, OrderStatus.FILLED.value, at),
        )
        return Order(client_order_id=cid, asset=asset, side=side, chain=chain, quantity=quantity, price=price,
                     mid_price=mid, value=value, fee=fee, status=OrderStatus.FILLED, at=_ts(at))

    def _find_order(self, cid: str) -> Order | None:
        row = self._db.execute("SELECT * FROM orders WHERE client_order_id = ?", (cid,)).fetchone()
        if row is None:
            return None
        _, asset, side, chain, quantity, price, mid, value, fee, status, at = row
        return Order(client_order_id=cid, asset=asset, side=Side(side), chain=chain, quantity=quantity, price=price,
                     mid_price=mid, value=value, fee=fee, status=OrderStatus(status), at=_ts(at))

    # -- transfers ---------------------------------------------------------------------------

    def transfer(self, asset: str, amount: float, from_chain: str, to_chain: str, client_id: str) -> Transfer:
        """Start a bridge; return the existing transfer for a known ``client_id``.

        Raise ``OrderRejected`` for a non-positive amount or the same chain at both ends, and
        ``InsufficientFunds`` when the source chain holds too little.
        """
        self._check_up()
        existing = self._find_transfer(client_id)
        if existing is not None:
            return existing
        if not amount > 0 or from_chain == to_chain:
            raise OrderRejected(f"transfer {client_id}: amount must be positive and the chains must differ")
        self._sleep(self.settings.order_latency / 2)
        with paper_store.write(self._db):
            existing = self._find_transfer(client_id)
            if existing is not None:
                return existing
            self._debit(asset, from_chain, amount)
            low, high = self.settings.bridge_minutes
            share = int(hashlib.sha256(client_id.encode()).hexdigest()[:8], 16) / 0xFFFFFFFF
            started = self._now()
            arrives = started + 60 * (low + share * (high - low))
            self._db.execute(
                "INSERT INTO transfers VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0)",
                (client_id, asset, amount, amount * self.settings.bridge_fee, from_chain, to_chain, started, arrives),
            )
        self._sleep(self.settings.order_latency / 2)
        return self.transfer_status(client_id)

    def bridge_estimate(self, asset: str, amount: float, from_chain: str, to_chain: str) -> dict[str, float]:
        """What a bridge of ``amount`` would cost and take here, before sending it: ``fee`` in the
        asset's units and the arrival window ``seconds_low``..``seconds_high`` on the venue's clock."""
        low, high = self.settings.bridge_minutes
        return {"fee": amount * self.settings.bridge_fee, "seconds_low": low * 60, "seconds_high": high * 60}

    def transfer_status(self, client_id: str) -> Transfer:
        self._check_up()
        self._settle()
        transfer = self._find_transfer(client_id)
        if transfer is None:
            raise UnknownOrder(f"The paper venue has no transfer {client_id}.")
        return transfer

    def _find_transfer(self, client_id: str) -> Transfer | None:
        row = self._db.execute("SELECT * FROM transfers WHERE client_id = ?", (client_id,)).fetchone()
        if row is None:
            return None
        cid, asset, amount, fee, source, target, started, arrives, settled = row
        return Transfer(client_id=cid, asset=asset, amount=amount, fee=fee, from_chain=source, to_chain=target,
                        status=TransferStatus.ARRIVED if settled else TransferStatus.IN_TRANSIT,
                        started_at=_ts(started), arrives_at=_ts(arrives))

    # -- moves to and from other venues (MOVES.md) ------------------------------------------------

    def deposit_address(self, asset: str, chain: str) -> str:
        """Where ``asset`` sent on ``chain`` lands in this account: ``paper:<account file>:<chain>``.
        Raise ``Unsupported`` when the account is declared unable to receive (``can_receive``)."""
        if not self.settings.can_receive:
            raise Unsupported(f"this paper venue cannot receive {asset} from another venue (can_receive = false)")
        return f"paper:{self.path.resolve()}:{chain}"

    def send_refusal(self, asset: str, chain: str) -> str | None:
        """Why this account cannot send ``asset`` to another venue (None: it can)."""
        return None if self.settings.can_send else f"this paper venue cannot send {asset} to another venue (can_send = false)"

    def move_estimate(self, asset: str, amount: float) -> dict[str, float]:
        """What a send of ``amount`` keeps on the way (``fee``, in the asset) and how long it travels."""
        low, high = self.settings.move_minutes
        return {"fee": amount * self.settings.move_fee, "fee_rate": self.settings.move_fee,
                "seconds_low": low * 60, "seconds_high": high * 60}

    def send(self, asset: str, amount: float, chain: str, address: str, client_id: str) -> Transfer:
        """Send ``amount`` of ``asset`` from ``chain`` to another paper account's ``address``: debited
        here at once, credited there (``amount - fee``) when this account's clock passes its arrival.
        A known ``client_id`` returns the existing send. Raise ``Unsupported`` when this account cannot
        send, ``OrderRejected`` for an address that is no paper account, ``InsufficientFunds``."""
        self._check_up()
        existing = self._find_send(client_id)
        if existing is not None:
            return existing
        refusal = self.send_refusal(asset, chain)
        if refusal:
            raise Unsupported(refusal)
        target = _paper_address(address)
        if not amount > 0 or target is None or not target[0].exists():
            raise OrderRejected(f"send {client_id}: amount must be positive and {address!r} a paper account's address")
        if target[0] == self.path.resolve():
            raise OrderRejected(f"send {client_id}: {address!r} is this account; a bridge moves between its chains")
        self._sleep(self.settings.order_latency / 2)
        with paper_store.write(self._db):
            existing = self._find_send(client_id)
            if existing is not None:
                return existing
            self._debit(asset, chain, amount)
            low, high = self.settings.move_minutes
            share = int(hashlib.sha256(client_id.encode()).hexdigest()[:8], 16) / 0xFFFFFFFF
            started = self._now()
            self._db.execute("INSERT INTO sends VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0)",
                             (client_id, asset, amount, amount * self.settings.move_fee, chain, address, started,
                              started + 60 * (low + share * (high - low))))
        self._sleep(self.settings.order_latency / 2)
        return self.sent(client_id)

    def sent(self, client_id: str) -> Transfer:
        """The send under ``client_id``: ``arrived`` once credited to the receiving account."""
        self._check_up()
        self._settle()
        found = self._find_send(client_id)
        if found is None:
            raise UnknownOrder(f"The paper venue has no send {client_id}.")
        return found

    def received(self, client_id: str, sent: Transfer | None = None) -> float | None:
        """The quantity credited here by the move ``client_id`` from another paper account, or None."""
        row = self._db.execute("SELECT amount FROM deposits WHERE client_id = ?", (client_id,)).fetchone()
        return None if row is None else float(row[0])

    def _find_send(self, client_id: str) -> Transfer | None:
        row = self._db.execute("SELECT * FROM sends WHERE client_id = ?", (client_id,)).fetchone()
        if row is None:
            return None
        cid, asset, amount, fee, chain, address, started, arrives, delivered = row
        return Transfer(client_id=cid, asset=asset, amount=amount, fee=fee, from_chain=chain, to_chain=address,
                        status=TransferStatus.ARRIVED if delivered else TransferStatus.IN_TRANSIT,
                        started_at=_ts(started), arrives_at=_ts(arrives))

    def _deliver(self, now: float) -> None:
        """Credit every send due to its receiving account, once: the credit and its client id are
        one transaction there (a repeat after a crash finds the id and credits nothing), then the
        send is marked delivered here."""
        due = self._db.execute("SELECT client_id, asset, amount - fee, address FROM sends WHERE delivered = 0 "
                               "AND arrives_at <= ?", (now,)).fetchall()
        for cid, asset, received, address in due:
            target, chain = _paper_address(address)  # type: ignore[misc]
            other = paper_store.connect(target)
            try:
                with paper_store.write(other):
                    if other.execute("SELECT 1 FROM deposits WHERE client_id = ?", (cid,)).fetchone() is None:
                        other.execute("INSERT INTO deposits VALUES (?, ?, ?, ?, ?)", (cid, asset, received, chain, now))
                        other.execute("INSERT INTO balances VALUES (?, ?, ?) ON CONFLICT (asset, chain) DO UPDATE "
                                      "SET quantity = quantity + ?", (asset, chain, received, received))
            finally:
                other.close()
            with paper_store.write(self._db):
                self._db.execute("UPDATE sends SET delivered = 1 WHERE client_id = ?", (cid,))

    def settle(self) -> None:
        """Credit every bridge and move that is due (a composite venue calls it on every member before
        reading any balance, so a move credited to another account is never missed)."""
        self._settle()

    def _settle(self) -> None:
        now = self._now()
        self._deliver(now)
        due = self._db.execute("SELECT 1 FROM transfers WHERE settled = 0 AND arrives_at <= ? LIMIT 1", (now,)).fetchone()
        if due is None:
            return
        with paper_store.write(self._db):
            rows = self._db.execute(
                "SELECT client_id, asset, amount - fee, to_chain FROM transfers WHERE settled = 0 AND arrives_at <= ?",
                (now,),
            ).fetchall()
            for cid, asset, received, chain in rows:
                self._credit(asset, chain, received)
                self._db.execute("UPDATE transfers SET settled = 1 WHERE client_id = ?", (cid,))

    # -- balances ----------------------------------------------------------------------------

    def deposit(self, asset: str, amount: float, chain: str | None = None) -> None:
        """Move ``amount`` of ``asset`` into the account (the chain holding most of it, unless named)."""
        self._check_up()
        with paper_store.write(self._db):
            self._credit(asset, chain or self._main_chain(asset), amount)

    def withdraw(self, asset: str, amount: float, chain: str | None = None, *, client_id: str | None = None,
                 address: str | None = None) -> dict:
        """Move ``amount`` of ``asset`` out of the account, largest balances first (or from ``chain``);
        raise ``InsufficientFunds`` (nothing moved) when the account holds less. Under a ``client_id``
        it is recorded with the debit in one transaction, and a known id returns the withdrawal made
        (never a second one); ``order_latency`` is spent half before, half after, so a process can
        be killed either side of it."""
        self._check_up()
        if client_id is not None:
            found = self._find_withdrawal(client_id)
            if found is not None:
                return found
            self._sleep(self.settings.order_latency / 2)
        with paper_store.write(self._db):
            if client_id is not None and (found := self._find_withdrawal(client_id)) is not None:
                return found
            rows = self._db.execute("SELECT chain, quantity FROM balances WHERE asset = ? AND quantity > 0 "
                                    "ORDER BY quantity DESC", (asset,)).fetchall()
            if chain is not None:
                rows = [r for r in rows if r[0] == chain]
            held = math.fsum(q for _, q in rows)
            if not (math.isfinite(amount) and amount > 0) or amount > held * (1 + _FUNDS_TOLERANCE) + 1e-12:
                raise InsufficientFunds(f"insufficient {asset} to withdraw {amount:.8g}: have {held:.8g}")
            left = amount
            for name, quantity in rows:
                take = min(quantity, left)
                self._debit(asset, name, take)
                left -= take
                if left <= 1e-12:
                    break
            record = {"client_id": client_id, "asset": asset, "amount": amount, "address": address, "at": self._now()}
            if client_id is not None:
                self._db.execute("INSERT INTO withdrawals VALUES (?, ?, ?, ?, ?)",
                                 (client_id, asset, amount, address, record["at"]))
        if client_id is not None:
            self._sleep(self.settings.order_latency / 2)
        return record

    def withdrawal(self, client_id: str) -> dict:
        """The withdrawal made under ``client_id``; raise ``UnknownOrder`` when there was none."""
        self._check_up()
        found = self._find_withdrawal(client_id)
        if found is None:
            raise UnknownOrder(f"The paper venue has no withdrawal {client_id}.")
        return found

    def _find_withdrawal(self, client_id: str) -> dict | None:
        row = self._db.execute("SELECT client_id, asset, amount, address, at FROM withdrawals WHERE client_id = ?",
                               (client_id,)).fetchone()
        return None if row is None else dict(zip(("client_id", "asset", "amount", "address", "at"), row))

    def _main_chain(self, asset: str) -> str:
        row = self._db.execute("SELECT chain FROM balances WHERE asset = ? ORDER BY quantity DESC LIMIT 1",
                               (asset,)).fetchone()
        if row is None:
            row = self._db.execute("SELECT chain FROM markets WHERE asset = ? LIMIT 1", (asset,)).fetchone()
        return row[0] if row else "ethereum"


    def _debit(self, asset: str, chain: str, amount: float) -> None:
        row = self._db.execute("SELECT quantity FROM balances WHERE asset = ? AND chain = ?", (asset, chain)).fetchone()
        held = row[0] if row else 0.0
        if not (math.isfinite(amount) and amount >= 0):
            raise OrderRejected(f"a debit of {amount:g} {asset} on {chain} cannot be made")
        if amount > held * (1 + _FUNDS_TOLERANCE) + 1e-12:
            raise InsufficientFunds(f"insufficient {asset} on {chain}: need {amount:.8g}, have {held:.8g}")
        self._db.execute("UPDATE balances SET quantity = ? WHERE asset = ? AND chain = ?",
                         (max(held - amount, 0.0), asset, chain))

    def _credit(self, asset: str, chain: str, amount: float) -> None:
        if not (math.isfinite(amount) and amount >= 0):  # a credit never takes money away
            raise OrderRejected(f"a credit of {amount:g} {asset} on {chain} cannot be made; no balance goes below zero")
        self._db.execute(
            "INSERT INTO balances VALUES (?, ?, ?) ON CONFLICT (asset, chain) DO UPDATE SET quantity = quantity + ?",
            (asset, chain, amount, amount),
        )

    def _history_prices(self, assets: list[str]) -> Mapping[str, Quote]:
        from trimtab.venues.paper_history import HistoryPrices

        if self._history is None:
            self._history = HistoryPrices.load()
        return self._history.at(self.now(), assets)

    @staticmethod
    def _sleep(seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds)
