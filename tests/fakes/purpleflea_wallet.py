"""Fake Purple Flea wallet API (contract §4): custody, balances per chain, prices, send, Wagyu swaps.

State: balances per (chain, address, asset) as Decimals; wallets made by ``/wallet/create`` (or
``create_wallet``) with their keys, which ``/send`` turns back into a ``from`` address; a ``Wagyu``
(purpleflea_swaps.py) for quotes and orders. Swaps advance on every request, by the fake clock.

Knobs: ``set_balance``, ``balance``, ``create_wallet``, ``prices`` (CoinGecko's USD prices),
``rpc_up`` (False: /balance 502 ``rpc_error``, per-item failures elsewhere), ``fail_lookup(chain,
address)`` (that address's reads fail with an ``error``), ``silent_zero(chain, address)`` (an RPC
error *reply*: reads as 0 with no ``error`` field where §4.4 says so), ``price_feed`` ("ok",
"error_status": every price null, "down": 502), ``gas`` per chain, ``wagyu`` (``up``,
``rate_limited_calls``, ``limits``, ``other_clients``, ``calls``, ``next_outcomes``, ``delay_seconds``,
``expiry_seconds``, ``status_names``, ``deposit_amount_unit``), and from ``PurpleFleaServer``:
``lose_response_of_next``, ``fail_next``, ``delay_next``.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any, ClassVar

from ._http import Request, Response
from .purpleflea import ApiError, FakeClock, PurpleFleaServer, json_body, new_hex, route
from .purpleflea_chains import (
    BALANCE_CHAINS,
    EVM,
    NATIVE,
    SEND_CHAINS,
    TOKENS,
    USDC,
    USDT,
    b58,
    decimal_string,
    explorer,
    key,
    new_address,
    new_tx_hash,
)
from .purpleflea_swaps import TREASURY, Wagyu, decimals_of

if TYPE_CHECKING:
    from .chain_network import ChainNetwork, ChainTransfer

WALLET_KEY = "pk_live_" + "b2" * 24
WALLET_INFO = {"service": "public-wallet", "docs": "https://wallet.purpleflea.com/llms.txt", "version": "1.0.0"}
PRICES = {"BTC": 97000.0, "ETH": 3500.0, "SOL": 150.0, "USDC": 1.0, "USDT": 1.0, "DAI": 1.0, "TRX": 0.25,
          "XMR": 160.0, "BNB": 600.0, "HYPE": 25.0, "WBTC": 97000.0, "WETH": 3500.0, "LINK": 15.0, "CBBTC": 97000.0,
          "CBETH": 3700.0, "MATIC": 0.5, "AVAX": 30.0, "DOGE": 0.15, "XRP": 0.6, "ADA": 0.45, "DOT": 6.0,
          "LTC": 80.0, "BCH": 350.0, "ATOM": 7.0, "ARB": 0.8, "OP": 1.5, "UNI": 8.0, "AAVE": 150.0, "PEPE": 0.00001,
          "SHIB": 0.00002}
UNAUTHORIZED = ("Missing or invalid API key",
                ("POST /v1/auth/register to get an API key, then send Authorization: Bearer <api_key>"))


class WalletFake(PurpleFleaServer):
    INFO = WALLET_INFO
    LIMITS: ClassVar[dict[str, int]] = {"/v1/auth/register": 10, "/v1/referral/withdraw": 5,
                                        "/v1/wallet/swap": 30, "/v1/wallet/send": 20}

    def __init__(self, clock: FakeClock | None = None, network: ChainNetwork | None = None) -> None:
        super().__init__(clock)
        self.network = network  # chain_network.ChainNetwork: sends are broadcast, withdrawals land here
        if network is not None:
            network.attach(self)
        self.agents: dict[str, str] = {WALLET_KEY: "ag_" + new_hex(12)}  # api key -> agent id
        self.balances: dict[tuple[str, str, str], Decimal] = {}
        self.wallets: dict[str, dict] = {}  # agent id -> the /wallet/create answer plus keys
        self.key_owner: dict[str, str] = {}  # private key -> EVM/solana/tron address
        self.prices = dict(PRICES)
        self.price_feed = "ok"
        self.rpc_up = True
        self.failing: set[tuple[str, str]] = set()
        self.silent: set[tuple[str, str]] = set()
        self.gas = {"ethereum": Decimal("0.0002"), "base": Decimal("0.00001"), "solana": Decimal("0.000005"),
                    "tron": Decimal(1), "monero": Decimal("0.00003")}
        self.wagyu = Wagyu(self.clock, self.prices, self.set_balance_add)
        self.routes = [
            route("POST", "/v1/auth/register", self._register, auth=False),
            route("POST", "/v1/wallet/create", self._create),
            route("GET", "/v1/wallet/export", self._export),
            route("GET", "/v1/wallet/balance/:address", self._balance),
            route("GET", "/v1/wallet/tokens/:address", self._tokens),
            route("GET", "/v1/wallet/usdc-balance", self._usdc_balance),
            route("GET", "/v1/wallet/prices", self._prices),
            route("POST", "/v1/wallet/send", self._send),
            route("GET", "/v1/wallet/swap/quote", self._quote),
            route("POST", "/v1/wallet/swap", self._swap),
            route("GET", "/v1/wallet/swap/status/:order_id", self._status),
            route("GET", "/v1/wallet/activity", self._activity),
        ]

    # -- knobs -----------------------------------------------------------------------------
    def set_balance(self, chain: str, address: str, asset: str, amount: Any) -> None:
        with self.lock:
            self.balances[(chain, key(chain, address), asset)] = Decimal(str(amount))

    def set_balance_add(self, chain: str, address: str, asset: str, amount: Decimal) -> None:
        self.balances[(chain, key(chain, address), asset)] = self.balance(chain, address, asset) + amount

    def balance(self, chain: str, address: str, asset: str) -> Decimal:
        with self.lock:
            self.wagyu.advance()
            return self.balances.get((chain, key(chain, address), asset), Decimal(0))

    def fail_lookup(self, chain: str, address: str) -> None:
        self.failing.add((chain, key(chain, address)))

    def silent_zero(self, chain: str, address: str) -> None:
        self.silent.add((chain, key(chain, address)))

    def create_wallet(self, api_key: str = WALLET_KEY) -> dict:
        """POST /v1/wallet/create's answer plus GET /v1/wallet/export's ``private_keys``, without HTTP."""
        with self.lock:
            agent = self.agents[api_key]
            return {**self._create(None, agent)[1], "private_keys": self.wallets[agent]["private_keys"]}

    # -- plumbing --------------------------------------------------------------------------
    def authorize(self, request: Request) -> str:
        header = request.header("authorization") or ""
        agent = self.agents.get(header[len("Bearer "):].strip()) if header.startswith("Bearer ") else None
        if agent is None:
            raise ApiError(401, "unauthorized", UNAUTHORIZED[0], suggestion=UNAUTHORIZED[1])
        return agent

    def handle(self, request: Request) -> Response:
        if self.network is not None:
            self.network.settle()  # outside our lock: a delivery may take another fake's lock
        with self.lock:
            self.wagyu.advance()
            return super().handle(request)

    # -- chain receiver (chain_network.py) -------------------------------------------------
    def seen(self, transfer: ChainTransfer) -> None:
        """Nothing until it confirms (the wallet API reads confirmed balances only)."""

    def arrived(self, transfer: ChainTransfer) -> None:
        """A transfer another fake broadcast lands on its address: this fake keeps every balance
        of ethereum, base and solana (our own sends are already in them)."""
        if transfer.origin != "wallet" and transfer.chain in BALANCE_CHAINS:
            with self.lock:
                self.set_balance_add(transfer.chain, transfer.to, transfer.asset, transfer.amount)

    def _read(self, chain: str, address: str, asset: str, error_reply_is_zero: bool) -> Decimal | None:
        """A balance as the server gets it: None when the lookup throws (RPC down, ``fail_lookup``);
        for an RPC error *reply* (``silent_zero``), 0 where the server's code reads it as zero (§4.4),
        else None (the client library throws)."""
        where = (chain, key(chain, address))
        if not self.rpc_up or where in self.failing:
            return None
        if where in self.silent:
            return Decimal(0) if error_reply_is_zero else None
        return self.balances.get((chain, key(chain, address), asset), Decimal(0))

    # -- auth and custody (§4.2, §4.3) -----------------------------------------------------
    def _register(self, request: Request, _: None) -> tuple[int, dict]:
        api_key, agent = "pk_live_" + new_hex(48), "ag_" + new_hex(12)
        self.agents[api_key] = agent
        return 201, {"agent_id": agent, "api_key": api_key, "referral_code": agent[3:11],
                     "message": "Store your API key: it is shown once.",
                     "next_steps": ["POST /v1/wallet/create", "GET /v1/wallet/balance/:address?chain=base"]}

    def _create(self, request: Request | None, agent: str) -> tuple[int, dict]:
        evm = new_address("ethereum")
        addresses = {"ethereum": evm, "base": evm, "solana": new_address("solana"),
                     "bitcoin": new_address("bitcoin"), "tron": new_address("tron"), "monero": new_address("monero")}
        keys = {"ethereum_and_base": "0x" + new_hex(64), "solana": b58(88), "bitcoin_wif": "K" + b58(51),
                "tron": new_hex(64), "monero_spend_key": new_hex(64), "monero_view_key": new_hex(64)}
        for name, chain in (("ethereum_and_base", "ethereum"), ("solana", "solana"), ("tron", "tron")):
            self.key_owner[keys[name]] = addresses[chain]
        mnemonic = " ".join(["abandon"] * 11 + ["about"])
        self.wallets[agent] = {"addresses": addresses, "private_keys": keys, "mnemonic": mnemonic}
        return 201, {"mnemonic": mnemonic, "addresses": addresses,
                     "monero_keys": {"view_key": keys["monero_view_key"], "spend_key": keys["monero_spend_key"]},
                     "warning": "Save this mnemonic now. It is not stored and cannot be recovered.",
                     "derivation_paths": {"ethereum": "m/44'/60'/0'/0/0", "solana": "m/44'/501'/0'/0'",
                                          "bitcoin": "m/84'/0'/0'/0/0", "tron": "m/44'/195'/0'/0/0"}}

    def _export(self, request: Request, agent: str) -> dict:
        wallet = self.wallets.get(agent)
        if wallet is None:  # fake-only code: the contract does not say
            raise ApiError(404, "wallet_not_found", "No wallet for this agent; POST /v1/wallet/create first")
        return {"mnemonic": wallet["mnemonic"], "addresses": wallet["addresses"],
                "private_keys": wallet["private_keys"]}

    # -- reads (§4.4) ----------------------------------------------------------------------
    def _balance(self, request: Request, agent: str, address: str) -> dict:
        chain = request.query.get("chain") or "base"
        if chain not in BALANCE_CHAINS:
            raise ApiError(400, "unsupported_chain", f"Chain {chain} is not supported", supported=list(BALANCE_CHAINS))
        if chain == "monero" and not any(w["addresses"]["monero"] == address for w in self.wallets.values()):
            raise ApiError(400, "view_key_required", "Monero balances need the wallet's view key (create it here)")
        symbol, decimals, unit = NATIVE[chain]
        amount = self._read(chain, address, symbol, error_reply_is_zero=chain in ("solana", "tron"))
        if amount is None:
            raise ApiError(502, "rpc_error", f"{chain} RPC request failed")
        raw = str(int(amount * 10**decimals))
        native: dict[str, Any] = {"symbol": symbol, "amount": decimal_string(amount)}
        body: dict[str, Any] = {"native": native}
        if chain == "bitcoin":
            native.update(confirmed_satoshis=raw, unconfirmed_satoshis="0", total_satoshis=raw)
        elif chain == "monero":
            native.update(piconero=raw, synced_at=self.clock.iso(), cached=False)
        else:
            native[unit] = raw
        if chain == "tron":
            held = {sym: (table["tron"], self._read("tron", address, sym, True)) for sym, table in
                    (("USDT", USDT), ("USDC", USDC))}
            body["trc20"] = {contract: str(int(amount * 10**decimals))
                             for (contract, decimals), amount in held.values() if amount}
        return {"address": address, "chain": chain, "balance": body, "explorer": explorer(chain, "address", address)}

    def _tokens(self, request: Request, agent: str, address: str) -> dict:
        chain = request.query.get("chain") or "base"
        if chain not in TOKENS:
            raise ApiError(400, "unsupported_chain", f"Chain {chain} is not supported", supported=list(TOKENS))
        items = []
        for symbol, (contract, decimals, name) in TOKENS[chain].items():
            amount = self._read(chain, address, symbol, error_reply_is_zero=False)
            item = {"symbol": symbol, "name": name, "contract": contract,
                    "balance": round(float(amount), 8) if amount is not None else None, "decimals": decimals}
            if amount is None:
                item["error"] = "lookup_failed"
            items.append(item)
        return {"address": address, "chain": chain, "token_balances": items,
                "summary": {"tokens_with_balance": sum(1 for i in items if i["balance"]), "tokens_checked": len(items)},
                "explorer": explorer(chain, "address", address)}

    def _usdc_balance(self, request: Request, agent: str) -> dict:
        asked = [(chain, request.query[chain]) for chain in USDC if request.query.get(chain)]
        if not asked:
            raise ApiError(400, "no_addresses", "Provide at least one of ?" + "=&".join(USDC) + "=")
        rows = []
        for chain, address in asked:
            amount = self._read(chain, address, "USDC", error_reply_is_zero=True)
            row = {"chain": chain, "wallet_address": address, "usdc_balance": float(amount or 0),
                   "usdc_contract": USDC[chain][0]}
            if amount is None:
                row["error"] = f"{chain} RPC request failed"
            rows.append(row)
        total = round(sum(r["usdc_balance"] for r in rows), 6)
        return {"total_usdc": total, "total_usd": total, "chain_count": len(rows), "balances": rows,
                "note": "Balances that could not be read are counted as 0 and carry an error field.",
                "timestamp": self.clock.iso()}

    def _prices(self, request: Request, agent: str) -> dict:
        raw = request.query.get("symbols")
        if not raw:
            raise ApiError(400, "missing_symbols", "Provide ?symbols=BTC,ETH")
        symbols = [s.strip().upper() for s in raw.split(",") if s.strip()][:20]
        supported = [s for s in symbols if s in PRICES]
        if not supported:
            raise ApiError(400, "no_supported_symbols", "None of the symbols is supported", supported=sorted(PRICES))
        if self.price_feed == "down":
            raise ApiError(502, "price_fetch_failed", "CoinGecko unreachable")
        ok = self.price_feed == "ok"
        prices = [{"symbol": s, "price_usd": self.prices.get(s) if ok else None, "change_24h_pct": 0.0 if ok else None,
                   "market_cap_usd": None} for s in supported]
        body: dict[str, Any] = {"prices": prices}
        unsupported = [s for s in symbols if s not in PRICES]
        if unsupported:
            body["unsupported"] = unsupported
        return {**body, "count": len(prices), "timestamp": self.clock.iso(), "source": "CoinGecko"}

    # -- send (§4.5) -----------------------------------------------------------------------
    def _send(self, request: Request, agent: str) -> dict:
        body = json_body(request)
        chain, to, amount_text, token = body.get("chain"), body.get("to"), body.get("amount"), body.get("token")
        if not chain or not to or not amount_text or (chain != "monero" and not body.get("private_key")):
            raise ApiError(400, "invalid_request", "chain, to, amount and private_key are required")
        if chain == "bitcoin":
            raise ApiError(501, "not_implemented", "Bitcoin sends are not implemented")
        if chain not in SEND_CHAINS:
            raise ApiError(400, "unsupported_chain", f"Sending on {chain} is not supported",
                           supported=list(SEND_CHAINS))
        failure = {"tron": "tx_create_failed", "monero": "xmr_send_failed"}.get(chain, "send_failed")
        try:
            amount = Decimal(str(amount_text))
        except InvalidOperation:
            raise ApiError(400, failure, f"invalid amount: {amount_text}") from None
        if chain == "monero":
            wallet = self.wallets.get(agent)
            if wallet is None:
                raise ApiError(400, "keys_required", "No stored Monero keys: POST /v1/wallet/create first")
            sender = wallet["addresses"]["monero"]
        else:
            sender = self.key_owner.get(body["private_key"])
            if sender is None:
                raise ApiError(400, failure, "invalid private key")
        asset, moved = NATIVE[chain][0], amount
        if token:
            if chain not in EVM or not re.fullmatch(r"0x[0-9a-fA-F]{40}", token):
                raise ApiError(400, failure, f"token must be an ERC-20 contract address on ethereum or base: {token}")
            found = [(s, d) for s, (c, d, _) in TOKENS.get(chain, {}).items() if c.lower() == token.lower()]
            if not found:
                raise ApiError(400, failure, f"call revert exception: {token} is not a token on {chain}")
            asset, decimals = found[0]
            if amount != amount.quantize(Decimal("0.000001")):
                raise ApiError(400, failure, "fractional component exceeds decimals")
            moved = amount * 10**6 / 10**decimals  # the server always parses token amounts with 6 decimals
        if amount <= 0:
            raise ApiError(400, failure, "amount must be positive")
        gas = self.gas.get(chain, Decimal(0))
        native = NATIVE[chain][0]
        if self.balance(chain, sender, asset) < moved + (gas if asset == native else 0) or (
                asset != native and self.balance(chain, sender, native) < gas):
            raise ApiError(400, failure, "insufficient funds for transfer and gas")
        self.set_balance_add(chain, sender, asset, -moved)
        self.set_balance_add(chain, sender, native, -gas)
        self.set_balance_add(chain, to, asset, moved)
        tx_hash = new_tx_hash(chain)
        if self.network is not None:
            self.network.broadcast(chain=chain, asset=asset, amount=moved, to=to, tx_hash=tx_hash, sender=sender,
                                   origin="wallet")
        order = self.wagyu.by_deposit_address(chain, to)
        if order is not None:
            self.wagyu.deposit(order, asset, moved, tx_hash, sender)
        reply: dict[str, Any] = {"tx_hash": tx_hash, "chain": chain, "from": sender, "to": to, "amount": amount_text}
        if chain == "tron":
            del reply["from"]
            reply["amount"] = f"{amount_text} TRX"
        if token:
            reply["token"] = token
        return {**reply, "explorer": explorer(chain, "tx", tx_hash)}

    # -- swaps (§4.6) ----------------------------------------------------------------------
    def _quote(self, request: Request, agent: str) -> dict:
        q = _required(request.query, ("from_chain", "to_chain", "from_token", "to_token", "amount"))
        quote = self.wagyu.quote(q)
        return {"quote": quote, "integrator_fee": {
            "rate": "0.5%", "estimated_fee_usd": round(float(quote["fromAmountUsd"]) * 0.005, 2),
            "note": "Purple Flea's 0.5% integrator fee is included in the quote"},
            "next_step": "POST /v1/wallet/swap with the same fields and a to_address"}

    def _swap(self, request: Request, agent: str) -> dict:
        q = _required(json_body(request), ("from_chain", "to_chain", "from_token", "to_token", "amount", "to_address"))
        o = self.wagyu.create(agent, q)
        deposit_amount = str(o.from_amount)
        if self.wagyu.deposit_amount_unit == "decimal":
            deposit_amount = decimal_string(Decimal(o.from_amount) / 10 ** decimals_of(o.from_chain, o.from_symbol))
        return {"swap_id": o.swap_id, "order_id": o.order_id, "status": self.wagyu.status_names[o.state],
                "deposit": {"address": o.deposit_address, "chain": self.wagyu.deposit_chains[o.from_chain],
                            "token": o.from_symbol, "amount": deposit_amount,
                            "instruction": f"Send exactly {deposit_amount} {o.from_symbol} to {o.deposit_address} "
                                           f"on {o.from_chain}"},
                "output": {"address": o.to_address, "expected_amount": str(o.to_amount)},
                "fee": {"rate": "0.5%", "amount_usd": o.fee_usd, "treasury": TREASURY},
                "expires_at": FakeClock(o.expires_at).iso(), "check_status": f"GET /v1/wallet/swap/status/{o.order_id}"}

    def _status(self, request: Request, agent: str, order_id: str) -> dict:
        return self.wagyu.status(order_id)

    def _activity(self, request: Request, agent: str) -> dict:
        limit = max(1, min(int(request.query.get("limit") or 50), 100))
        offset = max(0, int(request.query.get("offset") or 0))
        mine = [o for o in reversed(self.wagyu.orders) if o.agent_id == agent]
        events = [{"type": "swap", "id": o.swap_id, "created_at": int(o.created_at), "from_chain": o.from_chain,
                   "to_chain": o.to_chain, "from_token": o.request["from_token"],
                   "to_token": o.request["to_token"], "from_amount": o.request["amount"], "to_address": o.to_address,
                   "status": self.wagyu.status_names["awaiting"],  # the value at creation, never updated
                   "fee_amount": o.fee_usd, "order_id": o.order_id} for o in mine[offset:offset + limit]]
        return {"total": len(mine), "limit": limit, "offset": offset, "has_more": offset + limit < len(mine),
                "summary": {"total_swaps": len(mine), "total_fees_usd": round(sum(o.fee_usd for o in mine), 2)},
                "events": events}


def _required(source: dict, names: tuple[str, ...]) -> dict:
    missing = [n for n in names if not source.get(n)]
    if missing:
        raise ApiError(400, "invalid_request", "Missing required fields: " + ", ".join(missing))
    return {n: str(source[n]) for n in names}
