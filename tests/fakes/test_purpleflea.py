"""The Purple Flea trading fake over HTTP with httpx: shared conventions (§2) and trading (§3, §5).

Each test's docstring names the section of /work/shared/venues/purpleflea-api.md it checks.
"""

from __future__ import annotations

import pytest

httpx = pytest.importorskip("httpx")

from .purpleflea_trading import TRADING_INFO, TRADING_KEY

AUTH = {"Authorization": f"Bearer {TRADING_KEY}"}


@pytest.fixture
def trading(purpleflea):
    return purpleflea.trading


@pytest.fixture
def anon(trading):
    with httpx.Client(base_url=trading.url, timeout=5, verify=False) as client:
        yield client


@pytest.fixture
def api(trading):
    with httpx.Client(base_url=trading.url, headers=AUTH, timeout=5, verify=False) as client:
        yield client


def open_(api, **body):
    return api.post("/v1/trade/open", json={"coin": "BTC", "side": "long", "size_usd": 1000, **body})


# -- §2 conventions -------------------------------------------------------------------------
def test_info_rides_on_success_error_and_429_bodies(trading, api):
    """§2 `_info`: added to every JSON object response, errors and 429s included."""
    ok = api.get("/v1/markets/BTC/price")
    error = api.get("/v1/markets/NOPE/price")
    for _ in range(30):
        api.post("/v1/trade/open", content=b"{")
    limited = api.post("/v1/trade/open", content=b"{")

    assert [r.status_code for r in (ok, error, limited)] == [200, 404, 429]
    assert all(r.json()["_info"] == TRADING_INFO for r in (ok, error, limited))


def test_unknown_route_is_404_not_found_with_docs_links(api):
    """§2 Errors: unknown route -> 404 not_found with message, docs and openapi."""
    reply = api.get("/v1/trade/orders")

    assert reply.status_code == 404
    assert {k: v for k, v in reply.json().items() if k != "_info"} == {
        "error": "not_found", "message": "GET /v1/trade/orders not found", "docs": "/v1/docs",
        "openapi": "/openapi.json"}


def test_only_status_and_content_type_survive(api):
    """§2 `_info`: the response is rebuilt, keeping only status and content-type; no rate-limit headers."""
    reply = api.get("/v1/markets/multi-price?coins=BTC")

    assert reply.headers["content-type"] == "application/json"
    assert not [h for h in reply.headers if h.lower().startswith(("x-ratelimit", "retry-after", "cache-control"))]


def test_unparseable_body_is_400_invalid_json(api):
    """§2 Errors: unparseable body -> 400 invalid_json."""
    reply = api.post("/v1/trade/open", content=b"{not json", headers={"content-type": "application/json"})

    assert reply.status_code == 400 and reply.json()["error"] == "invalid_json"


def test_rate_limit_counts_exact_path_and_first_forwarded_ip_before_auth(trading, anon):
    """§2 Rate limits + §3 limits: 30 per 60 s on /v1/trade/open, keyed by path and the first
    x-forwarded-for entry, rejected (here unauthenticated) requests count, limiter before auth."""
    url = "/v1/trade/open"
    a = {"x-forwarded-for": "10.0.0.1, 10.9.9.9"}
    statuses = [anon.post(url, headers=a, json={}).status_code for _ in range(31)]

    other_ip = anon.post(url, headers={"x-forwarded-for": "10.9.9.9"}, json={})
    same_ip_by_x_real_ip = anon.post(url, headers={"x-real-ip": "10.0.0.1"}, json={})
    other_path = anon.post("/v1/trade/close", headers=a, json={})

    assert statuses == [401] * 30 + [429]
    assert [other_ip.status_code, same_ip_by_x_real_ip.status_code, other_path.status_code] == [401, 429, 401]
    assert anon.post(url, headers=a, json={}).json()["message"] == "Too many requests. Limit: 30 per 60s"


def test_rate_limit_window_is_fixed_60s_from_the_first_request(trading, purpleflea, anon):
    """§2 Rate limits: fixed 60 s window from the first request; then the counter starts again."""
    url = "/v1/auth/register"
    for _ in range(10):
        anon.post(url, json={})
    purpleflea.clock.advance(59)
    assert anon.post(url, json={}).status_code == 429

    purpleflea.clock.advance(1)

    assert anon.post(url, json={}).status_code == 201


def test_direct_clients_without_forwarding_headers_share_the_unknown_bucket(trading, anon):
    """§2 Rate limits: no x-forwarded-for or x-real-ip -> the key is "unknown"."""
    for _ in range(10):
        anon.post("/v1/auth/register", json={})

    assert anon.post("/v1/auth/register", json={}, headers={"x-real-ip": "unknown"}).status_code == 429


# -- §3 auth and markets --------------------------------------------------------------------
def test_missing_or_non_bearer_header_is_unauthorized_and_unknown_key_is_invalid_key(trading, anon):
    """§3 Auth: 401 unauthorized with the Bearer hint; unknown key 401 {"error":"invalid_key"}."""
    url = "/v1/trade/positions"
    missing = anon.get(url)
    basic = anon.get(url, headers={"Authorization": f"Basic {TRADING_KEY}"})
    unknown = anon.get(url, headers={"Authorization": "Bearer sk_trade_" + "0" * 48})

    assert missing.status_code == basic.status_code == unknown.status_code == 401
    assert missing.json()["message"] == basic.json()["message"] == "Provide Authorization: Bearer <api_key>"
    assert {k: v for k, v in unknown.json().items() if k != "_info"} == {"error": "invalid_key"}


def test_multi_price_trims_uppercases_resolves_xyz_and_lists_not_found(trading, anon):
    """§3.2 multi-price: trimmed, uppercased, xyz: optional, BTC-PERP unresolved, not_found when non-empty."""
    reply = anon.get("/v1/markets/multi-price", params={"coins": " btc ,tsla,BTC-PERP"})
    body = reply.json()

    assert [(p["coin"], p["ticker"], p["price"], p["category"]) for p in body["prices"]] == [
        ("BTC", "BTC", 97000.5, "crypto"), ("xyz:TSLA", "TSLA", 251.2, "stocks")]
    assert body["not_found"] == ["BTC-PERP"] and body["count"] == 2 and body["timestamp"].endswith("Z")
    assert "not_found" not in anon.get("/v1/markets/multi-price?coins=ETH").json()


def test_multi_price_drops_coins_past_the_20th_and_needs_coins(trading, anon):
    """§3.2 multi-price: coins past the 20th dropped silently; no coins -> 400 missing_coins."""
    many = ",".join(["BTC"] * 19 + ["ETH", "SOL"])
    assert anon.get("/v1/markets/multi-price", params={"coins": many}).json()["count"] == 20

    reply = anon.get("/v1/markets/multi-price")
    assert reply.status_code == 400 and reply.json()["error"] == "missing_coins"


def test_single_price_has_unix_ms_timestamp_and_unknown_coin_is_no_price(trading, purpleflea, anon):
    """§3.2 GET /v1/markets/:coin/price: {coin, ticker, price, timestamp(ms)}; 404 no_price with coin."""
    ok = anon.get("/v1/markets/xyz:tsla/price").json()
    missing = anon.get("/v1/markets/FOO/price")

    assert (ok["coin"], ok["ticker"], ok["price"], ok["timestamp"]) == ("xyz:TSLA", "TSLA", 251.2,
                                                                        purpleflea.clock.ms())
    assert missing.status_code == 404 and missing.json()["error"] == "no_price" and missing.json()["coin"] == "FOO"


def test_market_metadata_and_market_not_found(trading, anon):
    """§3.1 GET /v1/markets/:coin: max_leverage and dex; 404 market_not_found."""
    tsla = anon.get("/v1/markets/TSLA").json()
    missing = anon.get("/v1/markets/BTC-USD")

    assert (tsla["coin"], tsla["dex"], tsla["max_leverage"]) == ("xyz:TSLA", "xyz", 10)
    assert "szDecimals" not in tsla and "sz_decimals" not in tsla
    assert missing.status_code == 404 and missing.json()["error"] == "market_not_found"


def test_mids_are_cached_for_30_seconds_of_fake_time(trading, purpleflea, anon):
    """§3.2 Prices: allMids cached 30 s (§6: of fake-clock time)."""
    anon.get("/v1/markets/BTC/price")
    trading.set_price("BTC", 99_000)
    purpleflea.clock.advance(29)
    stale = anon.get("/v1/markets/BTC/price").json()["price"]
    purpleflea.clock.advance(1)
    fresh = anon.get("/v1/markets/BTC/price").json()["price"]

    assert (stale, fresh) == (97000.5, 99_000)


def test_market_endpoints_give_500_when_hyperliquid_is_down(trading, purpleflea, anon):
    """§3.2 + §6 Fault knobs: Hyperliquid unreachable -> market endpoints 500 internal_error."""
    anon.get("/v1/markets/BTC/price")
    trading.hyperliquid_up = False
    purpleflea.clock.advance(30)

    reply = anon.get("/v1/markets/multi-price?coins=BTC")

    assert reply.status_code == 500 and reply.json()["error"] == "internal_error"


# -- §3.3 open ------------------------------------------------------------------------------
def test_open_sizes_by_cached_mid_and_reports_the_filled_notional(trading, api):
    """§3.3 Server steps and Response 200; §3.6 fee = round2(size_usd x (0.00035 + 0.0002)) on free tier."""
    trading.fill_slippage = 0.0

    body = open_(api, size_usd=1000, leverage=5).json()

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
def test_open_errors_come_in_the_contracts_check_order(api, body, status, code):
    """§3.3 Errors, in check order: invalid_request, invalid_size, invalid_side, invalid_leverage,
    position_too_large, ..., trade_failed."""
    reply = api.post("/v1/trade/open", json=body)

    assert (reply.status_code, reply.json()["error"]) == (status, code)
    if code == "position_too_large":
        assert reply.json()["max_position_usd"] == 10_000


def test_daily_loss_limit_is_403_with_its_figures(trading, api):
    """§3.3 Errors: 403 daily_loss_limit_reached adds daily_loss_limit_usd, current_daily_loss_usd, resets_at."""
    trading.set_daily_loss(current_loss_usd=120.0, limit_usd=100.0)

    reply = open_(api)

    assert reply.status_code == 403
    body = reply.json()
    assert (body["error"], body["daily_loss_limit_usd"], body["current_daily_loss_usd"]) == (
        "daily_loss_limit_reached", 100.0, 120.0)
    assert body["resets_at"] == "2026-03-20T00:00:00.000Z"


def test_account_without_a_signing_key_is_wallet_not_configured(trading, anon):
    """§3.3 Errors: 400 wallet_not_configured when no signing key is stored."""
    key = trading.add_account(signing_key_stored=False)

    reply = anon.post("/v1/trade/open", headers={"Authorization": f"Bearer {key}"},
                       json={"coin": "BTC", "side": "long", "size_usd": 100})

    assert (reply.status_code, reply.json()["error"]) == (400, "wallet_not_configured")


def test_trade_failed_messages(trading, api, purpleflea):
    """§3.3 trade_failed: "Market not found…", "Max leverage for X is Nx", "Position size too small…",
    "Order not filled…" (a price jump between the cached mid and the fill, §6)."""
    api.post("/v1/trade/risk-settings", json={"max_leverage": 20})
    messages = [
        open_(api, coin="DOGEFOO").json()["message"],
        open_(api, coin="TSLA", leverage=15).json()["message"],
        open_(api, size_usd=0.4).json()["message"],
    ]
    open_(api, size_usd=10)  # caches the mid
    trading.set_price("BTC", 97000.5 * 1.01)  # the live book moves 1 %, the cached mid does not
    messages.append(open_(api).json()["message"])

    assert messages[0].startswith("Market not found") and messages[1] == "Max leverage for TSLA is 10x"
    assert messages[2].startswith("Position size too small") and messages[3].startswith("Order not filled")


def test_leverage_above_the_account_cap_is_silently_capped(api):
    """§3.3 leverage: silently capped at account max_leverage (default 10)."""
    body = open_(api, leverage=25).json()

    assert body["leverage"] == 10 and body["margin_used"] == round(body["size_usd"] / 10, 2)


def test_partial_fill_reports_the_smaller_filled_notional(trading, api):
    """§3.3 step 4 + Response: a partial fill is accepted; size_usd is the filled notional."""
    trading.partial_fill_ratio = 0.5

    body = open_(api, size_usd=1000).json()

    assert body["size_usd"] < 510 and body["status"] == "open"


def test_hyperliquid_down_makes_open_trade_failed_and_close_close_failed(trading, api):
    """§6 Fault knobs: Hyperliquid down -> open trade_failed, close close_failed."""
    position = open_(api).json()["position_id"]
    trading.hyperliquid_up = False

    opened = open_(api)
    closed = api.post("/v1/trade/close", json={"position_id": position})

    assert (opened.status_code, opened.json()["error"]) == (400, "trade_failed")
    assert (closed.status_code, closed.json()["error"]) == (400, "close_failed")


# -- §3.4 close -----------------------------------------------------------------------------
def test_close_flattens_the_whole_coin_and_closes_only_the_named_row(api):
    """§3.4: reduce-only IoC for the full net size; only the named row is closed; the other
    row stays open and closing it later gives close_failed."""
    first = open_(api, size_usd=1000).json()["position_id"]
    second = open_(api, size_usd=500).json()["position_id"]

    closed = api.post("/v1/trade/close", json={"position_id": first}).json()
    live = api.get("/v1/trade/positions").json()
    rows = api.get("/v1/trade/positions?status=all").json()["positions"]
    again = api.post("/v1/trade/close", json={"position_id": second})

    assert closed["status"] == "closed" and live["positions"] == [] and live["source"] == "hyperliquid"
    assert {r["id"]: r["status"] for r in rows} == {first: "closed", second: "open"}
    assert again.status_code == 400 and again.json()["error"] == "close_failed"
    assert again.json()["message"] == "No open position for BTC on Hyperliquid"


def test_close_errors(api):
    """§3.4 Errors: 400 {"error":"provide position_id"} (no message); 404 {"error":"position_not_found"}."""
    missing = api.post("/v1/trade/close", json={})
    unknown = api.post("/v1/trade/close", json={"position_id": "pos_nope"})

    assert missing.status_code == 400
    assert {k: v for k, v in missing.json().items() if k != "_info"} == {"error": "provide position_id"}
    assert unknown.status_code == 404
    assert {k: v for k, v in unknown.json().items() if k != "_info"} == {"error": "position_not_found"}


def test_close_pnl_comes_from_the_row_and_pnl_percent_is_the_raw_move(trading, api, purpleflea):
    """§3.4: pnl from the row's entry_price and size_usd; pnl_percent is the raw move, not
    leveraged and not sign-flipped for shorts."""
    trading.fill_slippage = 0.0
    short = open_(api, side="short", size_usd=1000, leverage=2).json()
    trading.set_price("BTC", 98_000)

    closed = api.post("/v1/trade/close", json={"position_id": short["position_id"]}).json()

    move = (98_000 - short["entry_price"]) / short["entry_price"]
    assert closed["exit_price"] == 98_000 and closed["size_usd"] == short["size_usd"] and closed["fee"] == short["fee"]
    assert closed["pnl"] == round(-move * short["size_usd"], 2) < 0
    assert closed["pnl_percent"] == round(move * 100, 2) > 0


def test_opposite_open_nets_and_an_oversized_one_flips(api):
    """§3.4 Partial reduction: /trade/open on the opposite side nets on Hyperliquid; oversizing flips."""
    open_(api, size_usd=1000)
    open_(api, side="short", size_usd=400)
    reduced = api.get("/v1/trade/positions").json()["positions"][0]
    open_(api, side="short", size_usd=1000)
    flipped = api.get("/v1/trade/positions").json()["positions"][0]

    assert reduced["side"] == "long" and reduced["size"] == pytest.approx(0.00619, abs=2e-5)
    assert flipped["side"] == "short" and flipped["size"] == pytest.approx(0.00412, abs=2e-5)


# -- §3.5 positions, history, account --------------------------------------------------------
def test_live_positions_are_hyperliquids_including_ones_opened_elsewhere(trading, api):
    """§3.5 GET /v1/trade/positions: source hyperliquid, size in coins, return_on_equity a string,
    position_id null for a position with no row (opened outside Purple Flea)."""
    opened = open_(api, size_usd=1000).json()
    trading.book.external_position(trading.account(), "ETH", -0.5, 3400.0, leverage=2)

    body = api.get("/v1/trade/positions").json()
    by_coin = {p["coin"]: p for p in body["positions"]}

    assert body["source"] == "hyperliquid" and body["count"] == 2
    btc, eth = by_coin["BTC"], by_coin["ETH"]
    assert btc["position_id"] == opened["position_id"] and btc["size"] == 0.01031
    assert btc["size_usd"] == round(0.01031 * btc["entry_price"], 2) and isinstance(btc["return_on_equity"], str)
    assert eth["position_id"] is None and eth["side"] == "short" and eth["size_usd"] == 1700.0


def test_positions_fall_back_to_camelcase_database_rows(trading, api):
    """§3.5 Database fallback: source database when Hyperliquid throws and always with ?status=all;
    raw camelCase rows plus ticker, current_price, unrealized_pnl."""
    open_(api, size_usd=1000)
    trading.hyperliquid_up = False  # the mid cache is still fresh, so prices work

    body = api.get("/v1/trade/positions").json()

    row = body["positions"][0]
    assert body["source"] == "database"
    assert {"id", "agentId", "sizeUsd", "entryPrice", "marginUsed", "liquidationPrice", "hlOrderId", "openedAt",
            "closedAt", "ticker", "current_price", "unrealized_pnl"} <= set(row)
    assert row["status"] == "open" and isinstance(row["openedAt"], int)


def test_database_fallback_with_a_stale_mid_and_hyperliquid_down_is_500(trading, api, purpleflea):
    """§3.5: a price failure in the database fallback gives 500."""
    open_(api, size_usd=1000)
    trading.hyperliquid_up = False
    purpleflea.clock.advance(31)

    assert api.get("/v1/trade/positions").status_code == 500


def test_history_is_newest_first_with_a_limit(api):
    """§3.5 GET /v1/trade/history?limit=: newest first, camelCase rows, count."""
    open_(api, size_usd=100)
    open_(api, side="short", size_usd=200)

    body = api.get("/v1/trade/history?limit=1").json()

    assert body["count"] == 1 and body["trades"][0]["side"] == "sell"
    assert body["trades"][0]["id"].startswith("trd_") and body["trades"][0]["orderId"].startswith("ord_")
    assert {"sizeUsd", "price", "fee", "realizedPnl", "createdAt", "agentId"} <= set(body["trades"][0])


def test_account_deposit_address_register_and_risk_settings(trading, api, anon):
    """§3.5 Account and funding: account has no balance; deposit-address; register 201 with a
    sk_trade_ key; risk-settings raise caps within the free tier (leverage <= 20)."""
    account = api.get("/v1/auth/account").json()
    deposit = api.get("/v1/auth/deposit-address").json()
    registered = anon.post("/v1/auth/register", json={})
    raised = api.post("/v1/trade/risk-settings", json={"max_leverage": 20, "max_position_usd": 50_000})
    too_high = api.post("/v1/trade/risk-settings", json={"max_leverage": 50})

    assert account["tier"] == "free" and account["max_leverage"] == 10 and "balance" not in account
    assert account["hl_wallet"]["address"] == deposit["deposit_address"]
    assert registered.status_code == 201 and registered.json()["api_key"].startswith("sk_trade_")
    assert len(registered.json()["api_key"]) == len("sk_trade_") + 48
    assert raised.json()["max_leverage"] == 20 and too_high.status_code == 400


# -- §5 / §6 -------------------------------------------------------------------------------
def test_open_whose_response_is_lost_still_executes(trading, api):
    """§3.3 "A timeout says nothing about whether the order executed" + §6 executed but response lost."""
    trading.lose_response_of_next("/v1/trade/open")

    with pytest.raises(httpx.TransportError):
        open_(api, size_usd=1000)

    assert [p["coin"] for p in api.get("/v1/trade/positions").json()["positions"]] == ["BTC"]
    assert api.get("/v1/trade/history").json()["count"] == 1


def test_hyperliquid_clearinghouse_state_per_dex(trading, api, anon):
    """§5 Gaps: Hyperliquid POST /info clearinghouseState (and dex "xyz") gives accountValue,
    withdrawable and assetPositions."""
    open_(api, size_usd=1000)
    open_(api, coin="TSLA", size_usd=500)
    address = trading.account().address

    main = anon.post("/info", json={"type": "clearinghouseState", "user": address}).json()
    xyz = anon.post("/info", json={"type": "clearinghouseState", "user": address, "dex": "xyz"}).json()

    assert [p["position"]["coin"] for p in main["assetPositions"]] == ["BTC"]
    assert [p["position"]["coin"] for p in xyz["assetPositions"]] == ["xyz:TSLA"]
    assert float(main["marginSummary"]["accountValue"]) == pytest.approx(10_000, abs=5)
    assert "_info" not in main and isinstance(main["assetPositions"][0]["position"]["szi"], str)
