"""The Purple Flea trading fake over httpx: shared conventions (§2), auth and markets (§3-§3.2),
lost responses and the Hyperliquid stub (§5, §6). Orders and positions: test_purpleflea_trading.py.

Each test's docstring names the section of /work/shared/venues/purpleflea-trading_api.md it checks.
"""

from __future__ import annotations

import pytest

import httpx  # noqa: E402

from .purpleflea_trading import TRADING_INFO, TRADING_KEY


def open_(trading_api, **body):
    return trading_api.post("/v1/trade/open", json={"coin": "BTC", "side": "long", "size_usd": 1000, **body})


# -- §2 conventions -------------------------------------------------------------------------
def test_info_rides_on_success_error_and_429_bodies(trading, trading_api):
    """§2 `_info`: added to every JSON object response, errors and 429s included."""
    ok = trading_api.get("/v1/markets/BTC/price")
    error = trading_api.get("/v1/markets/NOPE/price")
    for _ in range(30):
        trading_api.post("/v1/trade/open", content=b"{")
    limited = trading_api.post("/v1/trade/open", content=b"{")

    assert [r.status_code for r in (ok, error, limited)] == [200, 404, 429]
    assert all(r.json()["_info"] == TRADING_INFO for r in (ok, error, limited))


def test_unknown_route_is_404_not_found_with_docs_links(trading_api):
    """§2 Errors: unknown route -> 404 not_found with message, docs and openapi."""
    reply = trading_api.get("/v1/trade/orders")

    assert reply.status_code == 404
    assert {k: v for k, v in reply.json().items() if k != "_info"} == {
        "error": "not_found", "message": "GET /v1/trade/orders not found", "docs": "/v1/docs",
        "openapi": "/openapi.json"}


def test_only_status_and_content_type_survive(trading_api):
    """§2 `_info`: the response is rebuilt, keeping only status and content-type; no rate-limit headers."""
    reply = trading_api.get("/v1/markets/multi-price?coins=BTC")

    assert reply.headers["content-type"] == "application/json"
    assert not [h for h in reply.headers if h.lower().startswith(("x-ratelimit", "retry-after", "cache-control"))]


def test_unparseable_body_is_400_invalid_json(trading_api):
    """§2 Errors: unparseable body -> 400 invalid_json."""
    reply = trading_api.post("/v1/trade/open", content=b"{not json", headers={"content-type": "application/json"})

    assert reply.status_code == 400 and reply.json()["error"] == "invalid_json"


def test_rate_limit_counts_exact_path_and_first_forwarded_ip_before_auth(trading, trading_anon):
    """§2 Rate limits + §3 limits: 30 per 60 s on /v1/trade/open, keyed by path and the first
    x-forwarded-for entry, rejected (here unauthenticated) requests count, limiter before auth."""
    url = "/v1/trade/open"
    a = {"x-forwarded-for": "10.0.0.1, 10.9.9.9"}
    statuses = [trading_anon.post(url, headers=a, json={}).status_code for _ in range(31)]

    other_ip = trading_anon.post(url, headers={"x-forwarded-for": "10.9.9.9"}, json={})
    same_ip_by_x_real_ip = trading_anon.post(url, headers={"x-real-ip": "10.0.0.1"}, json={})
    other_path = trading_anon.post("/v1/trade/close", headers=a, json={})

    assert statuses == [401] * 30 + [429]
    assert [other_ip.status_code, same_ip_by_x_real_ip.status_code, other_path.status_code] == [401, 429, 401]
    assert trading_anon.post(url, headers=a, json={}).json()["message"] == "Too many requests. Limit: 30 per 60s"


def test_rate_limit_window_is_fixed_60s_from_the_first_request(trading, purpleflea, trading_anon):
    """§2 Rate limits: fixed 60 s window from the first request; then the counter starts again."""
    url = "/v1/auth/register"
    for _ in range(10):
        trading_anon.post(url, json={})
    purpleflea.clock.advance(59)
    assert trading_anon.post(url, json={}).status_code == 429

    purpleflea.clock.advance(1)

    assert trading_anon.post(url, json={}).status_code == 201


def test_direct_clients_without_forwarding_headers_share_the_unknown_bucket(trading, trading_anon):
    """§2 Rate limits: no x-forwarded-for or x-real-ip -> the key is "unknown"."""
    for _ in range(10):
        trading_anon.post("/v1/auth/register", json={})

    assert trading_anon.post("/v1/auth/register", json={}, headers={"x-real-ip": "unknown"}).status_code == 429


# -- §3 auth and markets --------------------------------------------------------------------
def test_missing_or_non_bearer_header_is_unauthorized_and_unknown_key_is_invalid_key(trading, trading_anon):
    """§3 Auth: 401 unauthorized with the Bearer hint; unknown key 401 {"error":"invalid_key"}."""
    url = "/v1/trade/positions"
    missing = trading_anon.get(url)
    basic = trading_anon.get(url, headers={"Authorization": f"Basic {TRADING_KEY}"})
    unknown = trading_anon.get(url, headers={"Authorization": "Bearer sk_trade_" + "0" * 48})

    assert missing.status_code == basic.status_code == unknown.status_code == 401
    assert missing.json()["message"] == basic.json()["message"] == "Provide Authorization: Bearer <api_key>"
    assert {k: v for k, v in unknown.json().items() if k != "_info"} == {"error": "invalid_key"}


def test_multi_price_trims_uppercases_resolves_xyz_and_lists_not_found(trading, trading_anon):
    """§3.2 multi-price: trimmed, uppercased, xyz: optional, BTC-PERP unresolved, not_found when non-empty."""
    reply = trading_anon.get("/v1/markets/multi-price", params={"coins": " btc ,tsla,BTC-PERP"})
    body = reply.json()

    assert [(p["coin"], p["ticker"], p["price"], p["category"]) for p in body["prices"]] == [
        ("BTC", "BTC", 97000.5, "crypto"), ("xyz:TSLA", "TSLA", 251.2, "stocks")]
    assert body["not_found"] == ["BTC-PERP"] and body["count"] == 2 and body["timestamp"].endswith("Z")
    assert "not_found" not in trading_anon.get("/v1/markets/multi-price?coins=ETH").json()


def test_multi_price_drops_coins_past_the_20th_and_needs_coins(trading, trading_anon):
    """§3.2 multi-price: coins past the 20th dropped silently; no coins -> 400 missing_coins."""
    many = ",".join(["BTC"] * 19 + ["ETH", "SOL"])
    assert trading_anon.get("/v1/markets/multi-price", params={"coins": many}).json()["count"] == 20

    reply = trading_anon.get("/v1/markets/multi-price")
    assert reply.status_code == 400 and reply.json()["error"] == "missing_coins"


def test_single_price_has_unix_ms_timestamp_and_unknown_coin_is_no_price(trading, purpleflea, trading_anon):
    """§3.2 GET /v1/markets/:coin/price: {coin, ticker, price, timestamp(ms)}; 404 no_price with coin."""
    ok = trading_anon.get("/v1/markets/xyz:tsla/price").json()
    missing = trading_anon.get("/v1/markets/FOO/price")

    assert (ok["coin"], ok["ticker"], ok["price"], ok["timestamp"]) == ("xyz:TSLA", "TSLA", 251.2,
                                                                        purpleflea.clock.ms())
    assert missing.status_code == 404 and missing.json()["error"] == "no_price" and missing.json()["coin"] == "FOO"


def test_market_metadata_and_market_not_found(trading, trading_anon):
    """§3.1 GET /v1/markets/:coin: max_leverage and dex; 404 market_not_found."""
    tsla = trading_anon.get("/v1/markets/TSLA").json()
    missing = trading_anon.get("/v1/markets/BTC-USD")

    assert (tsla["coin"], tsla["dex"], tsla["max_leverage"]) == ("xyz:TSLA", "xyz", 10)
    assert "szDecimals" not in tsla and "sz_decimals" not in tsla
    assert missing.status_code == 404 and missing.json()["error"] == "market_not_found"


def test_mids_are_cached_for_30_seconds_of_fake_time(trading, purpleflea, trading_anon):
    """§3.2 Prices: allMids cached 30 s (§6: of fake-clock time)."""
    trading_anon.get("/v1/markets/BTC/price")
    trading.set_price("BTC", 99_000)
    purpleflea.clock.advance(29)
    stale = trading_anon.get("/v1/markets/BTC/price").json()["price"]
    purpleflea.clock.advance(1)
    fresh = trading_anon.get("/v1/markets/BTC/price").json()["price"]

    assert (stale, fresh) == (97000.5, 99_000)


def test_market_endpoints_give_500_when_hyperliquid_is_down(trading, purpleflea, trading_anon):
    """§3.2 + §6 Fault knobs: Hyperliquid unreachable -> market endpoints 500 internal_error."""
    trading_anon.get("/v1/markets/BTC/price")
    trading.hyperliquid_up = False
    purpleflea.clock.advance(30)

    reply = trading_anon.get("/v1/markets/multi-price?coins=BTC")

    assert reply.status_code == 500 and reply.json()["error"] == "internal_error"


# -- §5 / §6 -------------------------------------------------------------------------------
def test_open_whose_response_is_lost_still_executes(trading, trading_api):
    """§3.3 "A timeout says nothing about whether the order executed" + §6 executed but response lost."""
    trading.lose_response_of_next("/v1/trade/open")

    with pytest.raises(httpx.TransportError):
        open_(trading_api, size_usd=1000)

    assert [p["coin"] for p in trading_api.get("/v1/trade/positions").json()["positions"]] == ["BTC"]
    assert trading_api.get("/v1/trade/history").json()["count"] == 1


def test_hyperliquid_clearinghouse_state_per_dex(trading, trading_api, trading_anon):
    """§5 Gaps: Hyperliquid POST /info clearinghouseState (and dex "xyz") gives accountValue,
    withdrawable and assetPositions."""
    open_(trading_api, size_usd=1000)
    open_(trading_api, coin="TSLA", size_usd=500)
    address = trading.account().address

    main = trading_anon.post("/info", json={"type": "clearinghouseState", "user": address}).json()
    xyz = trading_anon.post("/info", json={"type": "clearinghouseState", "user": address, "dex": "xyz"}).json()

    assert [p["position"]["coin"] for p in main["assetPositions"]] == ["BTC"]
    assert [p["position"]["coin"] for p in xyz["assetPositions"]] == ["xyz:TSLA"]
    assert float(main["marginSummary"]["accountValue"]) == pytest.approx(10_000, abs=5)
    assert "_info" not in main and isinstance(main["assetPositions"][0]["position"]["szi"], str)


def test_a_non_json_upstream_reply_becomes_400_invalid_json_even_on_a_get(trading, trading_anon, purpleflea):
    """§2 Errors: an exception whose text mentions JSON (a non-JSON upstream reply) -> 400 invalid_json."""
    trading_anon.get("/v1/markets/BTC/price")
    trading.hyperliquid_up, trading.hyperliquid_failure = False, "non_json"
    purpleflea.clock.advance(30)

    reply = trading_anon.get("/v1/markets/BTC/price")

    assert (reply.status_code, reply.json()["error"]) == (400, "invalid_json")
