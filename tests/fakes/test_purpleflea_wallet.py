"""The Purple Flea wallet fake over HTTP with httpx (contract §2, §4, §6).

Each test's docstring names the section of /work/shared/venues/purpleflea-api.md it checks.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

import httpx  # noqa: E402

from .purpleflea_chains import TOKENS, USDC
from .purpleflea_wallet import WALLET_INFO, WALLET_KEY

BASE_USDC = USDC["base"][0]
BASE_DAI = TOKENS["base"]["DAI"][0]


@pytest.fixture
def wallet(purpleflea):
    return purpleflea.wallet


@pytest.fixture
def api(wallet):
    headers = {"Authorization": f"Bearer {WALLET_KEY}"}
    with httpx.Client(base_url=wallet.url, headers=headers, timeout=5, verify=False) as client:
        yield client


@pytest.fixture
def mine(wallet):
    """A created wallet with 500 USDC and 0.01 ETH on base, 2 SOL on solana."""
    created = wallet.create_wallet()
    evm, sol = created["addresses"]["ethereum"], created["addresses"]["solana"]
    wallet.set_balance("base", evm, "USDC", 500)
    wallet.set_balance("base", evm, "ETH", "0.01")
    wallet.set_balance("solana", sol, "SOL", 2)
    return created


def without_info(body: dict) -> dict:
    return {k: v for k, v in body.items() if k != "_info"}


# -- §4 auth, limits, custody -----------------------------------------------------------------
def test_missing_and_bad_keys_get_the_same_401_with_suggestion_and_info(wallet, api):
    """§4 Auth: missing or bad key -> 401 {"error":"unauthorized","message","suggestion"}; §2 `_info`."""
    missing = httpx.get(wallet.url + "/v1/wallet/prices?symbols=BTC")
    bad = httpx.get(wallet.url + "/v1/wallet/prices?symbols=BTC", headers={"Authorization": "Bearer pk_live_x"})

    assert missing.status_code == bad.status_code == 401
    assert without_info(missing.json()) == without_info(bad.json())
    assert set(missing.json()) == {"error", "message", "suggestion", "_info"}
    assert missing.json()["_info"] == WALLET_INFO and WALLET_INFO["service"] == "public-wallet"


def test_swap_is_limited_to_30_per_minute_but_quote_and_status_are_not(api, mine):
    """§4 Limits: /v1/wallet/swap 30 (that exact path; quote and status unlimited); rejected requests count."""
    statuses = [api.post("/v1/wallet/swap", json={}).status_code for _ in range(31)]
    quotes = [api.get("/v1/wallet/swap/quote", params={"x": i}).status_code for i in range(35)]

    assert statuses == [400] * 30 + [429]
    assert set(quotes) == {400}  # invalid_request each time, never 429


def test_send_is_limited_to_20_per_minute(api):
    """§4 Limits: /v1/wallet/send 20 per IP per 60 s."""
    statuses = [api.post("/v1/wallet/send", json={}).status_code for _ in range(21)]

    assert statuses[-2:] == [400, 429]


def test_register_gives_a_pk_live_key_that_works(wallet, api):
    """§4.2 POST /v1/auth/register -> 201 {agent_id, api_key, referral_code, message, next_steps[]}."""
    reply = api.post("/v1/auth/register", json={})
    key = reply.json()["api_key"]

    assert reply.status_code == 201 and key.startswith("pk_live_") and len(key) == len("pk_live_") + 48
    assert {"agent_id", "referral_code", "message", "next_steps"} <= set(reply.json())
    prices = httpx.get(wallet.url + "/v1/wallet/prices?symbols=BTC", headers={"Authorization": f"Bearer {key}"})
    assert prices.status_code == 200


def test_create_returns_no_keys_but_export_returns_all_of_them(api):
    """§4.3 Custody: create -> 201 with mnemonic, addresses (base = ethereum), monero_keys, warning;
    the server stores every key and /export returns private_keys."""
    created = api.post("/v1/wallet/create")
    exported = api.get("/v1/wallet/export").json()

    body = created.json()
    assert created.status_code == 201 and "private_keys" not in body
    assert body["addresses"]["base"] == body["addresses"]["ethereum"]
    assert {"mnemonic", "monero_keys", "warning", "derivation_paths"} <= set(body)
    assert {"ethereum_and_base", "solana", "bitcoin_wif", "tron"} <= set(exported["private_keys"])


# -- §4.4 reads -----------------------------------------------------------------------------
@pytest.mark.parametrize(("chain", "asset", "amount", "unit", "raw"), [
    ("base", "ETH", "0.25", "wei", "250000000000000000"),
    ("ethereum", "ETH", "1.5", "wei", "1500000000000000000"),
    ("solana", "SOL", "2", "lamports", "2000000000"),
    ("bitcoin", "BTC", "0.01", "total_satoshis", "1000000"),
    ("tron", "TRX", "100", "sun", "100000000"),
    ("monero", "XMR", "0.5", "piconero", "500000000000"),
])
def test_balance_is_a_decimal_string_beside_its_smallest_unit(wallet, api, chain, asset, amount, unit, raw):
    """§4.4 GET /v1/wallet/balance/:address?chain=: amount a decimal string next to one smallest-unit field."""
    address = wallet.create_wallet()["addresses"][chain]
    wallet.set_balance(chain, address, asset, amount)

    body = api.get(f"/v1/wallet/balance/{address}", params={"chain": chain}).json()

    native = body["balance"]["native"]
    assert (body["chain"], native["symbol"], native["amount"], native[unit]) == (chain, asset, amount, raw)
    assert body["explorer"].endswith(address)


def test_balance_defaults_to_base_and_tron_adds_a_raw_trc20_map(wallet, api, mine):
    """§4.1 base is /balance's default chain; §4.4 tron adds a trc20 contract -> raw map."""
    tron = mine["addresses"]["tron"]
    wallet.set_balance("tron", tron, "USDT", "12.5")

    base = api.get(f"/v1/wallet/balance/{mine['addresses']['ethereum']}").json()
    trc20 = api.get(f"/v1/wallet/balance/{tron}?chain=tron").json()["balance"]["trc20"]

    assert base["chain"] == "base" and base["balance"]["native"]["amount"] == "0.01"
    assert trc20 == {"TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t": "12500000"}


def test_balance_errors(wallet, api):
    """§4.4 Errors: 400 unsupported_chain (+ supported[]), 400 view_key_required, 502 rpc_error."""
    arbitrum = api.get("/v1/wallet/balance/0xabc?chain=arbitrum")
    monero = api.get("/v1/wallet/balance/4unknown?chain=monero")
    wallet.rpc_up = False
    down = api.get("/v1/wallet/balance/0xabc?chain=base")

    assert (arbitrum.status_code, arbitrum.json()["error"]) == (400, "unsupported_chain")
    assert "base" in arbitrum.json()["supported"] and "arbitrum" not in arbitrum.json()["supported"]
    assert (monero.status_code, monero.json()["error"]) == (400, "view_key_required")
    assert (down.status_code, down.json()["error"]) == (502, "rpc_error")


def test_tokens_list_is_fixed_and_a_failed_lookup_is_null_with_error(wallet, api, mine):
    """§4.4 GET /v1/wallet/tokens: fixed list; balance a number (8 dp) or null with error lookup_failed."""
    evm = mine["addresses"]["ethereum"]
    ok = api.get(f"/v1/wallet/tokens/{evm}?chain=base").json()
    wallet.fail_lookup("base", evm)
    failed = api.get(f"/v1/wallet/tokens/{evm}?chain=base").json()

    assert [t["symbol"] for t in ok["token_balances"]] == ["USDC", "USDT", "DAI", "WETH", "cbBTC", "cbETH"]
    assert ok["token_balances"][0]["balance"] == 500.0 and ok["summary"] == {"tokens_with_balance": 1,
                                                                             "tokens_checked": 6}
    assert failed["token_balances"][0]["balance"] is None and failed["token_balances"][0]["error"] == "lookup_failed"
    assert api.get(f"/v1/wallet/tokens/{evm}?chain=solana").json()["error"] == "unsupported_chain"


def test_usdc_balance_sums_chains_and_counts_a_failed_lookup_as_zero_with_error(wallet, api, mine):
    """§4.4 GET /v1/wallet/usdc-balance: a failed lookup shows usdc_balance 0 plus error and is summed as 0."""
    evm = mine["addresses"]["ethereum"]
    wallet.set_balance("arbitrum", evm, "USDC", 250)
    wallet.fail_lookup("arbitrum", evm)

    body = api.get("/v1/wallet/usdc-balance", params={"base": evm, "arbitrum": evm}).json()

    assert (body["total_usdc"], body["total_usd"], body["chain_count"]) == (500.0, 500.0, 2)
    base, arbitrum = body["balances"]
    assert base == {"chain": "base", "wallet_address": evm, "usdc_balance": 500.0, "usdc_contract": BASE_USDC}
    assert arbitrum["usdc_balance"] == 0 and "error" in arbitrum


def test_usdc_balance_needs_an_address(api):
    """§4.4: no addresses -> 400 no_addresses."""
    reply = api.get("/v1/wallet/usdc-balance")

    assert (reply.status_code, reply.json()["error"]) == (400, "no_addresses")


def test_rpc_error_reply_reads_as_a_silent_zero(wallet, api, mine):
    """§4.4 Errors that look like a zero balance: no error field (usdc-balance; /balance on solana)."""
    evm, sol = mine["addresses"]["ethereum"], mine["addresses"]["solana"]
    wallet.silent_zero("base", evm)
    wallet.silent_zero("solana", sol)

    usdc = api.get("/v1/wallet/usdc-balance", params={"base": evm}).json()["balances"][0]
    solana = api.get(f"/v1/wallet/balance/{sol}?chain=solana").json()

    assert usdc["usdc_balance"] == 0 and "error" not in usdc
    assert solana["balance"]["native"]["amount"] == "0"


def test_prices_shape_and_errors(wallet, api):
    """§4.4 GET /v1/wallet/prices: {prices[], unsupported?, count, timestamp, source}; missing_symbols,
    no_supported_symbols; CoinGecko error status -> null prices with 200; unreachable -> 502."""
    ok = api.get("/v1/wallet/prices?symbols=btc,ETH,NOPE").json()
    missing = api.get("/v1/wallet/prices")
    none = api.get("/v1/wallet/prices?symbols=NOPE")
    wallet.price_feed = "error_status"
    nulls = api.get("/v1/wallet/prices?symbols=BTC")
    wallet.price_feed = "down"
    down = api.get("/v1/wallet/prices?symbols=BTC")

    assert [(p["symbol"], p["price_usd"]) for p in ok["prices"]] == [("BTC", 97000.0), ("ETH", 3500.0)]
    assert ok["unsupported"] == ["NOPE"] and ok["count"] == 2 and ok["source"] == "CoinGecko"
    assert [missing.json()["error"], none.json()["error"]] == ["missing_symbols", "no_supported_symbols"]
    assert nulls.status_code == 200 and nulls.json()["prices"][0]["price_usd"] is None
    assert (down.status_code, down.json()["error"]) == (502, "price_fetch_failed")


# -- §4.5 send ------------------------------------------------------------------------------
def send(api, created, **body):
    chain = body.get("chain", "base")
    key = {"solana": "solana", "tron": "tron"}.get(chain, "ethereum_and_base")
    return api.post("/v1/wallet/send", json={"chain": chain, "private_key": created["private_keys"][key], **body})


def test_evm_native_send_moves_eth_and_pays_gas(wallet, api, mine):
    """§4.5 EVM native: parseEther(amount); response {tx_hash, chain, from, to, amount, explorer}."""
    evm = mine["addresses"]["ethereum"]

    body = send(api, mine, to="0x" + "11" * 20, amount="0.004").json()

    assert (body["chain"], body["from"], body["amount"]) == ("base", evm, "0.004")
    assert body["tx_hash"].startswith("0x") and body["explorer"].endswith(body["tx_hash"])
    assert wallet.balance("base", "0x" + "11" * 20, "ETH") == Decimal("0.004")
    assert wallet.balance("base", evm, "ETH") == Decimal("0.01") - Decimal("0.004") - wallet.gas["base"]


def test_erc20_amounts_are_always_parsed_with_6_decimals(wallet, api, mine):
    """§4.5 EVM token: token must be a contract address and the amount is parsed with 6 decimals,
    right for USDC and wrong for DAI (18 decimals): "1" DAI moves 1e-12 DAI."""
    evm, to = mine["addresses"]["ethereum"], "0x" + "22" * 20
    wallet.set_balance("base", evm, "DAI", 5)

    usdc = send(api, mine, to=to, amount="100", token=BASE_USDC)
    dai = send(api, mine, to=to, amount="1", token=BASE_DAI)
    by_symbol = send(api, mine, to=to, amount="1", token="USDC")

    assert usdc.json()["token"] == BASE_USDC and wallet.balance("base", to, "USDC") == 100
    assert dai.status_code == 200 and wallet.balance("base", to, "DAI") == Decimal("1e-12")
    assert (by_symbol.status_code, by_symbol.json()["error"]) == (400, "send_failed")


def test_send_chain_limits_and_errors(wallet, api, mine):
    """§4.5 Errors: 400 invalid_request; 400 unsupported_chain (arbitrum, bsc, hyperevm); 501
    not_implemented (bitcoin); 400 send_failed; Solana SOL only; 400 keys_required (Monero)."""
    to = "0x" + "33" * 20
    replies = {
        "missing": api.post("/v1/wallet/send", json={"chain": "base", "to": to}),
        "arbitrum": send(api, mine, chain="arbitrum", to=to, amount="1"),
        "hyperevm": send(api, mine, chain="hyperevm", to=to, amount="1"),
        "bitcoin": send(api, mine, chain="bitcoin", to="bc1qx", amount="0.001"),
        "too_much": send(api, mine, to=to, amount="5"),
        "sol_token": send(api, mine, chain="solana", to="So1ana", amount="1", token=BASE_USDC),
    }
    other = api.post("/v1/auth/register", json={}).json()["api_key"]
    monero = httpx.post(wallet.url + "/v1/wallet/send", headers={"Authorization": f"Bearer {other}"},
                        json={"chain": "monero", "to": "4abc", "amount": "0.1"})

    assert {k: (r.status_code, r.json()["error"]) for k, r in replies.items()} == {
        "missing": (400, "invalid_request"), "arbitrum": (400, "unsupported_chain"),
        "hyperevm": (400, "unsupported_chain"), "bitcoin": (501, "not_implemented"),
        "too_much": (400, "send_failed"), "sol_token": (400, "send_failed")}
    assert (monero.status_code, monero.json()["error"]) == (400, "keys_required")


def test_tron_send_has_no_from_and_says_trx(wallet, api, mine):
    """§4.5 Tron: TRX only; no `from`, and `amount` comes back as "<n> TRX"."""
    wallet.set_balance("tron", mine["addresses"]["tron"], "TRX", 50)

    body = send(api, mine, chain="tron", to="T" + "x" * 33, amount="10").json()

    assert "from" not in body and body["amount"] == "10 TRX"


# -- §4.6-§4.7 swaps ------------------------------------------------------------------------
QUOTE = {"from_chain": "base", "to_chain": "solana", "from_token": "USDC", "to_token": "SOL", "amount": "100000000"}


def test_quote_is_wagyus_raw_object_with_string_amounts_and_seconds(api):
    """§4.6 GET /v1/wallet/swap/quote: raw quote (string amounts, estimatedTime in seconds) plus
    integrator_fee (0.5 %) and next_step."""
    body = api.get("/v1/wallet/swap/quote", params=QUOTE).json()

    quote = body["quote"]
    assert (quote["fromAmount"], quote["fromAmountUsd"], quote["fromSymbol"], quote["toSymbol"]) == (
        "100000000", "100.00", "USDC", "SOL")
    assert all(isinstance(quote[k], str) for k in ("toAmount", "toAmountUsd", "minReceived"))
    assert isinstance(quote["estimatedTime"], int) and int(quote["minReceived"]) < int(quote["toAmount"])
    assert body["integrator_fee"]["rate"] == "0.5%" and body["integrator_fee"]["estimated_fee_usd"] == 0.5
    assert "next_step" in body


@pytest.mark.parametrize(("change", "code"), [
    ({"amount": None}, "invalid_request"),
    ({"from_chain": "tron"}, "quote_failed"),
    ({"from_token": "DAI"}, "quote_failed"),  # base has USDC only by symbol
    ({"amount": "100.5"}, "quote_failed"),  # decimals instead of smallest units
    ({"amount": "10000000"}, "quote_failed"),  # $10 is under Wagyu's $15 minimum
])
def test_quote_errors(api, change, code):
    """§4.6 quote errors: 400 invalid_request; 400 quote_failed ("Unsupported source chain: x" or Wagyu's text)."""
    params = {k: v for k, v in {**QUOTE, **change}.items() if v is not None}

    reply = api.get("/v1/wallet/swap/quote", params=params)

    assert (reply.status_code, reply.json()["error"]) == (400, code)
    if change == {"from_chain": "tron"}:
        assert reply.json()["message"] == "Unsupported source chain: tron"


def test_cross_chain_move_quote_order_send_poll_confirm(wallet, api, mine, purpleflea):
    """§4.7 Cross-chain move: quote -> create order -> send the deposit -> poll status -> confirm
    by the destination balance; §4.6 activity keeps the creation-time status."""
    evm, sol = mine["addresses"]["ethereum"], mine["addresses"]["solana"]
    quote = api.get("/v1/wallet/swap/quote", params=QUOTE).json()["quote"]
    order = api.post("/v1/wallet/swap", json={**QUOTE, "to_address": sol}).json()
    deposit = order["deposit"]
    assert order["swap_id"].startswith("swap_") and deposit["token"] == "USDC" and deposit["amount"] == "100000000"
    assert order["output"] == {"address": sol, "expected_amount": quote["toAmount"]}
    assert order["fee"]["amount_usd"] == 0.5 and order["check_status"].endswith(order["order_id"])

    sent = send(api, mine, to=deposit["address"], amount=str(Decimal(deposit["amount"]) / 10**6), token=BASE_USDC)
    statuses = [api.get(f"/v1/wallet/swap/status/{order['order_id']}").json()["status"]]
    purpleflea.clock.advance(quote["estimatedTime"])
    final = api.get(f"/v1/wallet/swap/status/{order['order_id']}").json()
    balance = api.get(f"/v1/wallet/balance/{sol}?chain=solana").json()["balance"]["native"]["lamports"]
    activity = api.get("/v1/wallet/activity?type=swaps").json()

    assert sent.status_code == 200 and wallet.balance("base", evm, "USDC") == 400
    assert statuses == ["processing"] and final["status"] == "completed"
    assert final["depositTxHash"] == sent.json()["tx_hash"] and final["actualOutput"] == quote["toAmount"]
    assert int(balance) == 2 * 10**9 + int(quote["toAmount"])
    assert activity["total"] == 1 and activity["events"][0]["status"] == order["status"] == "awaiting_deposit"
    assert activity["events"][0]["id"] == order["swap_id"]


def test_a_wrong_amount_does_not_advance_and_an_unpaid_order_expires(wallet, api, mine, purpleflea):
    """§4.6 Nothing moves until exactly deposit.amount reaches deposit.address before expires_at (§6)."""
    order = api.post("/v1/wallet/swap", json={**QUOTE, "to_address": mine["addresses"]["solana"]}).json()

    send(api, mine, to=order["deposit"]["address"], amount="99", token=BASE_USDC)
    purpleflea.clock.advance(3600)
    status = api.get(f"/v1/wallet/swap/status/{order['order_id']}").json()

    assert status["status"] == "expired" and status["depositTxHash"] is None


@pytest.mark.parametrize("outcome", ["failed", "refunded"])
def test_scripted_failure_and_refund(wallet, api, mine, purpleflea, outcome):
    """§6 Fault knobs: swap failure or refund; a refund returns the deposit to its sender."""
    evm = mine["addresses"]["ethereum"]
    wallet.wagyu.next_outcomes.append(outcome)
    order = api.post("/v1/wallet/swap", json={**QUOTE, "to_address": mine["addresses"]["solana"]}).json()
    send(api, mine, to=order["deposit"]["address"], amount="100", token=BASE_USDC)

    purpleflea.clock.advance(3600)
    status = api.get(f"/v1/wallet/swap/status/{order['order_id']}").json()

    assert status["status"] == outcome and status["actualOutput"] is None
    if outcome == "refunded":
        assert status["refundTxHash"] and wallet.balance("base", evm, "USDC") == 500
    else:
        assert status["errorMessage"] and wallet.balance("base", evm, "USDC") == 400


def test_wagyu_429_and_outage_surface_as_400s(wallet, api, mine):
    """§4.6: a Wagyu 429 shows up as 400 quote_failed, swap_failed or status_check_failed (§6)."""
    order = api.post("/v1/wallet/swap", json={**QUOTE, "to_address": mine["addresses"]["solana"]}).json()
    wallet.wagyu.rate_limited_calls = 3

    quote = api.get("/v1/wallet/swap/quote", params=QUOTE)
    swap = api.post("/v1/wallet/swap", json={**QUOTE, "to_address": mine["addresses"]["solana"]})
    status = api.get(f"/v1/wallet/swap/status/{order['order_id']}")
    wallet.wagyu.up = False
    down = api.get("/v1/wallet/swap/quote", params=QUOTE)

    assert [(r.status_code, r.json()["error"]) for r in (quote, swap, status, down)] == [
        (400, "quote_failed"), (400, "swap_failed"), (400, "status_check_failed"), (400, "quote_failed")]
    assert "429" in quote.json()["message"]


def test_unknown_order_is_status_check_failed(api):
    """§4.6 GET /v1/wallet/swap/status/:orderId: error 400 status_check_failed."""
    reply = api.get("/v1/wallet/swap/status/no-such-order")

    assert (reply.status_code, reply.json()["error"]) == (400, "status_check_failed")


def test_swap_whose_response_is_lost_leaves_an_orphan_order_in_activity(wallet, api, mine):
    """§5 No idempotency key: after a lost response look for orphan swaps in /wallet/activity (§6)."""
    wallet.lose_response_of_next("/v1/wallet/swap")

    with pytest.raises(httpx.TransportError):
        api.post("/v1/wallet/swap", json={**QUOTE, "to_address": mine["addresses"]["solana"]})

    events = api.get("/v1/wallet/activity?type=swaps").json()["events"]
    assert len(events) == 1 and events[0]["to_address"] == mine["addresses"]["solana"]


def test_a_hanging_call_trips_the_client_timeout(wallet, mine):
    """§4 Upstream failures: EVM calls can hang, so set client timeouts (§6 Hangs)."""
    wallet.delay_next("/v1/wallet/send", 1.0)
    headers = {"Authorization": f"Bearer {WALLET_KEY}"}

    with httpx.Client(base_url=wallet.url, headers=headers, timeout=0.2, verify=False) as client, \
            pytest.raises(httpx.ReadTimeout):
        send(client, mine, to="0x" + "44" * 20, amount="0.001")


def test_an_rpc_error_reply_on_evm_balance_fails_instead(wallet, api, mine):
    """§4.4 lists the zero-reading error replies (usdc-balance; /balance on Solana and Tron); /balance
    on EVM is not among them, so the fake answers 502 rpc_error and /tokens gives lookup_failed."""
    evm = mine["addresses"]["ethereum"]
    wallet.silent_zero("base", evm)

    balance = api.get(f"/v1/wallet/balance/{evm}?chain=base")
    tokens = api.get(f"/v1/wallet/tokens/{evm}?chain=base").json()

    assert (balance.status_code, balance.json()["error"]) == (502, "rpc_error")
    assert tokens["token_balances"][0]["error"] == "lookup_failed"


def test_status_carries_only_the_fields_the_contract_lists(wallet, api, mine):
    """§4.6 status: Wagyu's order, of which the contract lists orderId, status, depositTxHash,
    actualOutput, errorMessage, refundTxHash, createdAt, completedAt; the deposit address is not one."""
    order = api.post("/v1/wallet/swap", json={**QUOTE, "to_address": mine["addresses"]["solana"]}).json()

    status = api.get(f"/v1/wallet/swap/status/{order['order_id']}").json()

    assert set(status) == {"orderId", "status", "depositTxHash", "actualOutput", "errorMessage", "refundTxHash",
                           "createdAt", "completedAt", "_info"}
    assert order["deposit"]["address"] not in str(status)


def test_wagyus_20_status_checks_a_minute_are_shared_by_every_client(wallet, api, mine, purpleflea):
    """§4.6 Wagyu allows 20 status checks a minute per IP, and the server is one IP for every client:
    with 15 spent by other agents, our 6th check of the minute is 400 status_check_failed (not 429:
    the server's own limiter does not cover the status path); the next minute answers again."""
    order = api.post("/v1/wallet/swap", json={**QUOTE, "to_address": mine["addresses"]["solana"]}).json()
    wallet.wagyu.other_clients["status"] = 15
    purpleflea.clock.advance(60)

    replies = [api.get(f"/v1/wallet/swap/status/{order['order_id']}") for _ in range(7)]
    purpleflea.clock.advance(60)
    later = api.get(f"/v1/wallet/swap/status/{order['order_id']}")

    assert [r.status_code for r in replies] == [200] * 5 + [400, 400]
    assert replies[5].json()["error"] == "status_check_failed" and "429" in replies[5].json()["message"]
    assert later.status_code == 200


def test_wagyus_5_orders_a_minute_surface_as_swap_failed(wallet, api, mine):
    """§4.6 5 orders a minute per IP at Wagyu: the 6th POST /wallet/swap is 400 swap_failed (the
    server's own limit of 30 is not reached)."""
    replies = [api.post("/v1/wallet/swap", json={**QUOTE, "to_address": mine["addresses"]["solana"]})
               for _ in range(6)]

    assert [r.status_code for r in replies] == [200] * 5 + [400]
    assert replies[5].json()["error"] == "swap_failed" and len(wallet.wagyu.orders) == 5


def test_the_deposit_amount_unit_is_unspecified_and_may_be_decimals(wallet, api, mine):
    """§4.6 The unit of deposit.amount is unspecified: the fake can give decimals instead."""
    wallet.wagyu.deposit_amount_unit = "decimal"

    order = api.post("/v1/wallet/swap", json={**QUOTE, "to_address": mine["addresses"]["solana"]}).json()

    assert order["deposit"]["amount"] == "100"


def test_a_500_after_the_send_moved_the_funds(wallet, api, mine):
    """§2 an unhandled exception is 500 internal_error; fail_next(applied=True) lets the send happen first."""
    evm = mine["addresses"]["ethereum"]
    wallet.fail_next("/v1/wallet/send", applied=True)

    reply = send(api, mine, to="0x" + "55" * 20, amount="100", token=BASE_USDC)

    assert (reply.status_code, reply.json()["error"]) == (500, "internal_error")
    assert wallet.balance("base", evm, "USDC") == 400
