"""The wallet's amounts and balances, and what a balance proves about a swap (contract §4.4, §4.7, §5).

* Units: ``/wallet/swap`` takes smallest units, ``/wallet/send`` decimals (§4.6): ``smallest`` and
  ``whole`` convert, by ``decimals`` of the chain's native or USDC (6).
* ``read_balance``: one asset at one address, or None when it cannot be read (a row with an
  ``error``, a failed call): unknown, never zero.
* ``arrived``: the destination balance rose, since the one recorded before the order, by the
  swap's expected output less ``CONFIRM_TOLERANCE`` (less the deposit's gas when that is paid in the
  same asset), over and above the full expected output of every other travelling swap of ours into
  the same balance, so one arrival never confirms two swaps (hypothesis found that sharing the
  tolerance let a 784 arrival confirm both a 784 and a 16 swap). Every swap is confirmed this way
  (§4.7 step 5: confirm by the destination balance): one whose status word says completed, because
  a word is not money in the wallet; one whose status cannot be read or whose word is unknown,
  because nothing else shows it. For the latter (``exact``) the rise must also be no more than the
  expected outputs plus ``CONFIRM_TOLERANCE``: a larger rise holds money that is not ours to count
  (an owner's deposit landing while the swap travels), so it proves nothing until Wagyu's status
  can be read; a rise that is exactly one deposit of someone else's of our expected size is the
  window that remains.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import ROUND_DOWN, Decimal, InvalidOperation
from typing import Any

from trimtab.errors import OrderRejected, VenueError
from trimtab.venues.purpleflea_http import PurpleFleaClient

#: Native asset and decimals of each chain the venue can fund a swap from (§4.1, §4.5).
NATIVE = {"ethereum": ("ETH", 18), "base": ("ETH", 18), "solana": ("SOL", 9)}
#: USDC's contract per EVM chain: ``/send`` takes tokens by contract only, always with 6 decimals.
USDC_CONTRACT = {"ethereum": "0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48",
                 "base": "0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913"}
#: Deposit gas a same-chain swap into the native may cost out of the balance that confirms it.
GAS_ALLOWANCE = {"ethereum": Decimal("0.005"), "base": Decimal("0.0005"), "solana": Decimal("0.001")}
#: A swap of ours older than this no longer counts against another's confirmation (Bitcoin: up to 4 h).
TRAVEL_HORIZON = 6 * 3600.0
#: How far below the expected output a balance may rise and still confirm a swap (slippage, rounding).
CONFIRM_TOLERANCE = Decimal("0.02")


def decimals(chain: str, asset: str) -> int:
    """Decimals of ``asset`` on ``chain`` (USDC: 6; natives: their own)."""
    if asset == "USDC":
        return 6
    native = NATIVE.get(chain)
    if native is None or native[0] != asset:
        raise OrderRejected(f"{asset} on {chain} cannot be swapped from this wallet (sources: ETH and USDC on "
                            "ethereum and base, SOL on solana).")
    return native[1]


def smallest(amount: float, chain: str, asset: str) -> int:
    """``amount`` in smallest units, rounded down: 1.5 USDC -> 1500000."""
    return int((Decimal(repr(amount)) * 10 ** decimals(chain, asset)).to_integral_value(rounding=ROUND_DOWN))


def whole(units: int | str, chain: str, asset: str) -> Decimal:
    return Decimal(int(units)) / 10 ** decimals(chain, asset)


def read_balance(api: PurpleFleaClient, chain: str, asset: str, address: str) -> Decimal | None:
    """``asset`` held at ``address`` on ``chain``, or None when it cannot be read."""
    try:
        if asset == "USDC":
            body = api.get("/v1/wallet/usdc-balance", {chain: address}, operation=f"read USDC on {chain}")
            rows = [r for r in body.get("balances", []) if r.get("chain") == chain]
            if not rows or rows[0].get("error"):
                return None
            return Decimal(str(rows[0]["usdc_balance"]))
        body = api.get(f"/v1/wallet/balance/{address}", {"chain": chain}, operation=f"read {asset} on {chain}")
        native = body["balance"]["native"]
        return Decimal(str(native["amount"])) if native.get("symbol") == asset else None
    except (VenueError, KeyError, TypeError, InvalidOperation):
        return None


def expected(record: dict[str, Any]) -> Decimal:
    """The swap's expected output, in decimals."""
    r = record["request"]
    return whole(record.get("expected") or 0, r["to_chain"], record["to_asset"])


def need(record: dict[str, Any]) -> Decimal:
    """How much the destination balance must rise to show the swap of ``record`` arrived."""
    r = record["request"]
    least = expected(record) * (1 - CONFIRM_TOLERANCE)
    if r["from_chain"] == r["to_chain"] and NATIVE.get(r["to_chain"], ("",))[0] == record["to_asset"]:
        least -= GAS_ALLOWANCE.get(r["to_chain"], Decimal(0))
    return max(least, Decimal(0))


def ceiling(record: dict[str, Any]) -> Decimal:
    """The most the destination balance can rise by for the swap of ``record`` alone."""
    return expected(record) * (1 + CONFIRM_TOLERANCE)


def arrived(record: dict[str, Any], balance_now: Decimal | None, others: Iterable[dict[str, Any]], now: float, *,
            exact: bool = True, landed: Iterable[dict[str, Any]] = ()) -> bool:
    """Whether ``balance_now`` (the destination's) shows the swap of ``record`` arrived, given the
    records of our ``others`` swaps still travelling; ``exact``: the balance is the only evidence,
    so a rise larger than our swaps can explain proves nothing, counting the swaps of ours that
    ``landed`` (confirmed since this one was ordered, so perhaps inside its rise) (see the module)."""
    r = record["request"]
    if balance_now is None or record.get("baseline") is None or not record.get("expected"):
        return False
    wanted, most = need(record), ceiling(record)

    def ours(theirs: dict[str, Any]) -> bool:
        recent = now - float(theirs.get("asked_at") or 0) <= TRAVEL_HORIZON  # else long over, whatever its word
        return recent and (theirs["request"]["to_chain"], theirs["to_asset"]) == (r["to_chain"], record["to_asset"])

    for theirs in filter(ours, others):
        wanted += expected(theirs)  # in full: the tolerance is this swap's own, never shared
        most += ceiling(theirs)
    for theirs in filter(ours, landed):
        most += ceiling(theirs)
    rise = balance_now - Decimal(record["baseline"])
    return rise >= wanted > 0 and (not exact or rise <= most)
