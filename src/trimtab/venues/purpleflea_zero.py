"""A balance of 0 from the Purple Flea wallet API is not always news (contract §4.4).

The API reads an RPC *error reply* as a balance of 0 with no ``error`` field: USDC on every chain
(``/wallet/usdc-balance``) and SOL (``/wallet/balance`` on solana). Taken at its word, such a zero is
money gone: false drift, a plan that buys back what is still there, a swap or a move "proven" against a
baseline of 0. So a zero is judged against what this wallet last saw:

* a balance last seen above 0 that now reads 0, with no swap or send of ours out of that chain and
  asset since (the ledger has every one), is **unknown**, not 0: ``judge`` returns None, balance reads
  raise ``VenueUnavailable`` (nothing is traded on it) and baselines are not taken;
* a zero that persists is believed: ``CONFIRM_READS`` reads spanning ``CONFIRM_SECONDS`` (the owner
  really emptied that chain), after which it is the balance like any other;
* a zero after our own swap or send out of it (since that read, or in the last 6 hours), or where
  nothing was ever seen, is believed at once.

What was seen is kept in the wallet's ledger (``seen:<chain>:<asset>``), shared by every process on the
config, and written only when it changes.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from trimtab.venues.purpleflea_ledger import Ledger

KIND = "seen"
#: A swap or send of ours out of a balance this recent explains its 0 (one still on its way may have been
#: asked before the last read that saw the balance above 0).
RECENT_SECONDS = 6 * 3600.0
#: A zero nothing of ours explains is believed after this many reads ...
CONFIRM_READS = 3
#: ... spanning at least this long (a failing RPC node is usually replaced within minutes).
CONFIRM_SECONDS = 900.0


class ZeroGuard:
    """Judges the wallet's balance reads; see the module docstring. ``clock``: Unix seconds, the
    clock the swap and send records are stamped with."""

    def __init__(self, ledger: Ledger, clock: Callable[[], float]) -> None:
        self.ledger, self.clock = ledger, clock

    def judge(self, chain: str, asset: str, amount: Decimal) -> Decimal | None:
        """``amount`` as read, or None when it is a 0 that cannot be believed yet."""
        key = f"{KIND}:{chain}:{asset}"
        found = self.ledger.get(key)
        seen = found[1] if found is not None else None
        now = self.clock()
        recent = min(float(seen["at"]), now - RECENT_SECONDS) if seen is not None else now
        if amount > 0 or seen is None or Decimal(seen["amount"]) == 0 or self._ours_since(chain, asset, recent):
            if seen is None or Decimal(seen["amount"]) != amount or "zeros" in seen:
                self.ledger.record(key, KIND, "balance", {"amount": str(amount), "at": now})
            return amount
        zeros, since = int(seen.get("zeros", 0)) + 1, float(seen.get("zero_since", now))
        if zeros >= CONFIRM_READS and now - since >= CONFIRM_SECONDS:
            self.ledger.record(key, KIND, "balance", {"amount": "0", "at": now})
            return amount
        self.ledger.record(key, KIND, "balance", {**seen, "zeros": zeros, "zero_since": since})
        return None

    def refusal(self, chain: str, asset: str) -> str:
        """Why a zero read of ``asset`` on ``chain`` is not traded on, in one sentence."""
        found = self.ledger.get(f"{KIND}:{chain}:{asset}")
        seen = found[1] if found is not None else {"amount": "?"}
        return (f"{asset} on {chain} reads 0, but {seen['amount']} was there and no swap or send of ours took it; "
                "this API reads a failed RPC call as 0 (contract §4.4), so trimtab does not trade on it (a real 0 is "
                f"believed after {CONFIRM_READS} reads over {CONFIRM_SECONDS / 60:.0f} minutes)")

    def _ours_since(self, chain: str, asset: str, at: float) -> bool:
        """A swap or send of ours out of ``asset`` on ``chain`` asked at or after ``at``."""
        for _, _, r in self.ledger.records("swap"):
            if (r.get("request", {}).get("from_chain"), r.get("from_asset")) == (chain, asset) and r["asked_at"] >= at:
                return True
        return any((r.get("chain"), r.get("asset")) == (chain, asset) and r["asked_at"] >= at
                   for _, _, r in self.ledger.records("send"))
