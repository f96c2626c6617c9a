"""The Purple Flea trading fake's orders, closes, positions and history over httpx (contract §3.3-§3.5).

Each test's docstring names the section of /work/shared/venues/purpleflea-trading_api.md it checks.
"""

from __future__ import annotations

import pytest



def open_(trading_api, **body):
    return trading_api.post("/v1/trade/open", json={"coin": "BTC", "side": "long", "size_usd": 1000, **body})


# -- §3.3 open ------------------------------------------------------------------------------
def test_open_sizes_by_cached_mid_and_reports_the_filled_notional(trading, trading_api):
    """§3.3 Server steps and Response 200; §3.6 fee = round2(size_usd x (0.00035 + 0.0002)) on free tier."""
    trading.fill_slippage = 0.0

    body = open_(trading_api, size_usd=1000, leverage=5).json()

    coins = round(1000 / 97000.5, 5)  # 0.01031 BTC, sized by the cached mid
    size_usd = round(coins * 97000.0, 2)  # filled at the mid, in Hyperliquid's 5 significant figures
    assert body["position_id"].startswith("pos_") and body["order_id"].startswith("ord_")
    assert (body["coin"], body["dex"], body["side"], body["leverage"], body["max_leverage"]) == (
        "BTC", "main", "long", 5, 40)
    assert body["size_usd"] == size_usd and body["entry_price"] == 97000.0  # 5 significant figures
    assert body["margin_used"] == round(size_usd / 5, 2)
    assert body["fee"] == round(size_usd * 0.00055, 2)
    assert body["fee_breakdown"] == {"hyperliquid": round(size_usd * 0.00035, 2),
                                     "purple_flea_builder": round(size_usd * 0.0002, 2)}
    assert (body["execution"], body["status"]) == ("real", "open") and isinstance(body["hl_order_id"], int)


@pytest.mark.parametrize(("body", "status", "code"), [
    ({}, 400, "invalid_request"),
    ({"coin": "BTC", "side": "long", "size_usd": 0}, 400, "invalid_request"),
    ({"coin": "BTC", "side": "buy", "size_usd": "100"}, 400, "invalid_size"),
    ({"coin": "BTC", "side": "buy", "size_usd": 100}, 400, "invalid_side"),
    ({"coin": "BTC", "side": "long", "size_usd": 100, "leverage": 0.5}, 400, "invalid_leverage"),
    ({"coin": "BTC", "side": "long", "size_usd": 20_000, "leverage": 0.5}, 400, "invalid_leverage"),
    ({"coin": "BTC", "side": "long", "size_usd": 20_000}, 400, "position_too_large"),
    ({"coin": "BTC-PERP", "side": "long", "size_usd": 100}, 400, "trade_failed"),
])
def test_open_errors_come_in_the_contracts_check_order(trading_api, body, status, code):
    """§3.3 Errors, in check order: invalid_request, invalid_size, invalid_side, invalid_leverage,
    position_too_large, ..., trade_failed."""
    reply = trading_api.post("/v1/trade/open", json=body)

    assert (reply.status_code, reply.json()["error"]) == (status, code)
    if code == "position_too_large":
        assert reply.json()["max_position_usd"] == 10_000


def test_daily_loss_limit_is_403_with_its_figures(trading, trading_api):
    """§3.3 Errors: 403 daily_loss_limit_reached adds daily_loss_limit_usd, current_daily_loss_usd, resets_at."""
    trading.set_daily_loss(current_loss_usd=120.0, limit_usd=100.0)

    reply = open_(trading_api)

    assert reply.status_code == 403
    body = reply.json()
    assert (body["error"], body["daily_loss_limit_usd"], body["current_daily_loss_usd"]) == (
        "daily_loss_limit_reached", 100.0, 120.0)
    assert body["resets_at"] == "2026-03-20T00:00:00.000Z"


def test_account_without_a_signing_key_is_wallet_not_configured(trading, trading_anon):
    """§3.3 Errors: 400 wallet_not_configured when no signing key is stored."""
    key = trading.add_account(signing_key_stored=False)

    reply = trading_anon.post("/v1/trade/open", headers={"Authorization": f"Bearer {key}"},
                       json={"coin": "BTC", "side": "long", "size_usd": 100})

    assert (reply.status_code, reply.json()["error"]) == (400, "wallet_not_configured")


def test_trade_failed_messages(trading, trading_api, purpleflea):
    """§3.3 trade_failed: "Market not found…", "Max leverage for X is Nx", "Position size too small…",
    "Order not filled…" (a price jump between the cached mid and the fill, §6)."""
    trading_api.post("/v1/trade/risk-settings", json={"max_leverage": 20})
    messages = [
        open_(trading_api, coin="DOGEFOO").json()["message"],
        open_(trading_api, coin="TSLA", leverage=15).json()["message"],
        open_(trading_api, size_usd=0.4).json()["message"],
    ]
    open_(trading_api, size_usd=10)  # caches the mid
    trading.set_price("BTC", 97000.5 * 1.01)  # the live book moves 1 %, the cached mid does not
    messages.append(open_(trading_api).json()["message"])

    assert messages[0].startswith("Market not found") and messages[1] == "Max leverage for TSLA is 10x"
    assert messages[2].startswith("Position size too small") and messages[3].startswith("Order not filled")


def test_leverage_above_the_account_cap_is_silently_capped(trading_api):
    """§3.3 leverage: silently capped at account max_leverage (default 10)."""
    body = open_(trading_api, leverage=25).json()

    assert body["leverage"] == 10 and body["margin_used"] == round(body["size_usd"] / 10, 2)


def test_partial_fill_reports_the_smaller_filled_notional(trading, trading_api):
    """§3.3 step 4 + Response: a partial fill is accepted; size_usd is the filled notional."""
    trading.partial_fill_ratio = 0.5

    body = open_(trading_api, size_usd=1000).json()

    assert body["size_usd"] < 510 and body["status"] == "open"


def test_hyperliquid_down_makes_open_trade_failed_and_close_close_failed(trading, trading_api):
    """§6 Fault knobs: Hyperliquid down -> open trade_failed, close close_failed."""
    position = open_(trading_api).json()["position_id"]
    trading.hyperliquid_up = False

    opened = open_(trading_api)
    closed = trading_api.post("/v1/trade/close", json={"position_id": position})

    assert (opened.status_code, opened.json()["error"]) == (400, "trade_failed")
    assert (closed.status_code, closed.json()["error"]) == (400, "close_failed")


# -- §3.4 close -----------------------------------------------------------------------------
def test_close_flattens_the_whole_coin_and_closes_only_the_named_row(trading_api):
    """§3.4: reduce-only IoC for the full net size; only the named row is closed; the other
    row stays open and closing it later gives close_failed."""
    first = open_(trading_api, size_usd=1000).json()["position_id"]
    second = open_(trading_api, size_usd=500).json()["position_id"]

    closed = trading_api.post("/v1/trade/close", json={"position_id": first}).json()
    live = trading_api.get("/v1/trade/positions").json()
    rows = trading_api.get("/v1/trade/positions?status=all").json()["positions"]
    again = trading_api.post("/v1/trade/close", json={"position_id": second})

    assert closed["status"] == "closed" and live["positions"] == [] and live["source"] == "hyperliquid"
    assert {r["id"]: r["status"] for r in rows} == {first: "closed", second: "open"}
    assert again.status_code == 400 and again.json()["error"] == "close_failed"
    assert again.json()["message"] == "No open position for BTC on Hyperliquid"


def test_close_errors(trading_api):
    """§3.4 Errors: 400 {"error":"provide position_id"} (no message); 404 {"error":"position_not_found"}."""
    missing = trading_api.post("/v1/trade/close", json={})
    unknown = trading_api.post("/v1/trade/close", json={"position_id": "pos_nope"})

    assert missing.status_code == 400
    assert {k: v for k, v in missing.json().items() if k != "_info"} == {"error": "provide position_id"}
    assert unknown.status_code == 404
    assert {k: v for k, v in unknown.json().items() if k != "_info"} == {"error": "position_not_found"}


def test_close_pnl_comes_from_the_row_and_pnl_percent_is_the_raw_move(trading, trading_api, purpleflea):
    """§3.4: pnl from the row's entry_price and size_usd; pnl_percent is the raw move, not
    leveraged and not sign-flipped for shorts."""
    trading.fill_slippage = 0.0
    short = open_(trading_api, side="short", size_usd=1000, leverage=2).json()
    trading.set_price("BTC", 98_000)

    closed = trading_api.post("/v1/trade/close", json={"position_id": short["position_id"]}).json()

    move = (98_000 - short["entry_price"]) / short["entry_price"]
    assert closed["exit_price"] == 98_000 and closed["size_usd"] == short["size_usd"] and closed["fee"] == short["fee"]
    assert closed["pnl"] == round(-move * short["size_usd"], 2) < 0
    assert closed["pnl_percent"] == round(move * 100, 2) > 0


def test_opposite_open_nets_and_an_oversized_one_flips(trading_api):
    """§3.4 Partial reduction: /trade/open on the opposite side nets on Hyperliquid; oversizing flips."""
    open_(trading_api, size_usd=1000)
    open_(trading_api, side="short", size_usd=400)
    reduced = trading_api.get("/v1/trade/positions").json()["positions"][0]
    open_(trading_api, side="short", size_usd=1000)
    flipped = trading_api.get("/v1/trade/positions").json()["positions"][0]

    assert reduced["side"] == "long" and reduced["size"] == pytest.approx(0.00619, abs=2e-5)
    assert flipped["side"] == "short" and flipped["size"] == pytest.approx(0.00412, abs=2e-5)


# -- §3.5 positions, history, account --------------------------------------------------------
def test_live_positions_are_hyperliquids_including_ones_opened_elsewhere(trading, trading_api):
    """§3.5 GET /v1/trade/positions: source hyperliquid, size in coins, return_on_equity a string,
    position_id null for a position with no row (opened outside Purple Flea)."""
    opened = open_(trading_api, size_usd=1000).json()
    trading.book.external_position(trading.account(), "ETH", -0.5, 3400.0, leverage=2)

    body = trading_api.get("/v1/trade/positions").json()
    by_coin = {p["coin"]: p for p in body["positions"]}

    assert body["source"] == "hyperliquid" and body["count"] == 2
    btc, eth = by_coin["BTC"], by_coin["ETH"]
    assert btc["position_id"] == opened["position_id"] and btc["size"] == 0.01031
    assert btc["size_usd"] == round(0.01031 * btc["entry_price"], 2) and isinstance(btc["return_on_equity"], str)
    assert eth["position_id"] is None and eth["side"] == "short" and eth["size_usd"] == 1700.0


def test_positions_fall_back_to_camelcase_database_rows(trading, trading_api):
    """§3.5 Database fallback: source database when Hyperliquid throws and always with ?status=all;
    raw camelCase rows plus ticker, current_price, unrealized_pnl."""
    open_(trading_api, size_usd=1000)
    trading.hyperliquid_up = False  # the mid cache is still fresh, so prices work

    body = trading_api.get("/v1/trade/positions").json()

    row = body["positions"][0]
    assert body["source"] == "database"
    assert {"id", "agentId", "sizeUsd", "entryPrice", "marginUsed", "liquidationPrice", "hlOrderId", "openedAt",
            "closedAt", "ticker", "current_price", "unrealized_pnl"} <= set(row)
    assert row["status"] == "open" and isinstance(row["openedAt"], int)


def test_database_fallback_with_a_stale_mid_and_hyperliquid_down_is_500(trading, trading_api, purpleflea):
    """§3.5: a price failure in the database fallback gives 500."""
    open_(trading_api, size_usd=1000)
    trading.hyperliquid_up = False
    purpleflea.clock.advance(31)

    assert trading_api.get("/v1/trade/positions").status_code == 500


def test_history_is_newest_first_with_a_limit(trading_api):
    """§3.5 GET /v1/trade/history?limit=: newest first, camelCase rows, count."""
    open_(trading_api, size_usd=100)
    open_(trading_api, side="short", size_usd=200)

    body = trading_api.get("/v1/trade/history?limit=1").json()

    assert body["count"] == 1 and body["trades"][0]["side"] == "sell"
    assert body["trades"][0]["id"].startswith("trd_") and body["trades"][0]["orderId"].startswith("ord_")
    assert {"sizeUsd", "price", "fee", "realizedPnl", "createdAt", "agentId"} <= set(body["trades"][0])


def test_account_deposit_address_register_and_risk_settings(trading, trading_api, trading_anon):
    """§3.5 Account and funding: account has no balance; deposit-address; register 201 with a
    sk_trade_ key; risk-settings raise caps within the free tier (leverage <= 20)."""
    account = trading_api.get("/v1/auth/account").json()
    deposit = trading_api.get("/v1/auth/deposit-address").json()
    registered = trading_anon.post("/v1/auth/register", json={})
    raised = trading_api.post("/v1/trade/risk-settings", json={"max_leverage": 20, "max_position_usd": 50_000})
    too_high = trading_api.post("/v1/trade/risk-settings", json={"max_leverage": 50})

    assert account["tier"] == "free" and account["max_leverage"] == 10 and "balance" not in account
    assert account["hl_wallet"]["address"] == deposit["deposit_address"]
    assert registered.status_code == 201 and registered.json()["api_key"].startswith("sk_trade_")
    assert len(registered.json()["api_key"]) == len("sk_trade_") + 48
    assert raised.json()["max_leverage"] == 20 and too_high.status_code == 400
