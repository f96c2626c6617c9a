"""End to end through the CLI: `trimtab init --venue ccxt` and `trimtab rebalance` on the Binance fake.

The fake runs in this process on 127.0.0.1; trimtab runs as a real subprocess with real ccxt. The
portfolio (19,000 USDT: BTC 34%, ETH 13%, SOL 0%, USDT 53% against 20/30/20/30) needs one sell
(BTC) and two buys (SOL, ETH).
"""

import json
import sqlite3
from decimal import Decimal
from pathlib import Path

import pytest
from conftest import run_cli
from fakes.binance_spot import API_KEY, SECRET
from fakes.fixtures import binance_server  # noqa: F401 - fixture

PRICES = {"BTC": Decimal(65000), "ETH": Decimal(2000), "SOL": Decimal(150), "USDT": Decimal(1)}
KEYS = {"TRIMTAB_API_KEY": API_KEY, "TRIMTAB_API_SECRET": SECRET}
ORDER = ("/api/v3/order", "POST")


def portfolio(directory: Path, url: str, *, pairs: bool = False) -> Path:
    """A ccxt portfolio on the fake; without ``pairs`` every leg goes through USDT (no ETH/BTC orders)."""
    result = run_cli("init", "--venue", "ccxt", "--exchange", "binance", "--api-url", url, "--quote", "USDT",
                     "--targets", "BTC=0.2,ETH=0.3,SOL=0.2,USDT=0.3", cwd=directory, env=KEYS)
    assert result.returncode == 0, result.stderr
    config = directory / "trimtab.toml"
    config.write_text(config.read_text().replace("direct_pairs = true", f"direct_pairs = {str(pairs).lower()}"))
    return directory


def value(server, prices=PRICES) -> Decimal:
    return sum((q * prices[a] for a, q in server.balances.items()), Decimal(0))


def legs(directory: Path) -> list[tuple]:
    with sqlite3.connect(directory / "trimtab.db") as db:
        return db.execute("SELECT client_id, side, asset, state, fee, error FROM legs ORDER BY run_id, idx").fetchall()


def test_init_writes_a_ccxt_config_naming_the_key_variables_not_the_keys(tmp_path, binance_server):
    # Act
    portfolio(tmp_path, binance_server.url)
    # Assert
    text = (tmp_path / "trimtab.toml").read_text()
    assert 'kind = "ccxt"' in text and 'exchange = "binance"' in text and 'api_key_env = "TRIMTAB_API_KEY"' in text
    assert API_KEY not in text and SECRET not in text


def test_rebalance_on_the_exchange_survives_a_429_and_a_lost_answer_without_sending_an_order_twice(
        tmp_path, binance_server):
    # Arrange
    portfolio(tmp_path, binance_server.url)
    before = value(binance_server)
    binance_server.fail_next("/api/v3/order", 429, method="POST")  # the first order is refused: slow down
    binance_server.drop_response_of_next_order()  # the next one executes and its answer is lost
    # Act
    result = run_cli("rebalance", "--yes", "--json", cwd=tmp_path, env=KEYS)
    # Assert
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["run"]["state"] == "completed"
    rows = legs(tmp_path)
    assert [(side, asset, state) for _, side, asset, state, _, _ in rows] == [
        ("sell", "BTC", "filled"), ("buy", "SOL", "filled"), ("buy", "ETH", "filled")]
    assert len(binance_server.requests_to(*ORDER)) == 4  # 3 legs + the one refused with 429
    assert sorted(o["clientOrderId"] for o in binance_server.orders) == sorted(r[0] for r in rows)
    fees = sum(Decimal(str(r[4])) for r in rows)
    assert before - value(binance_server) == pytest.approx(fees, abs=Decimal("0.01"))  # value conserved up to fees


def test_an_order_the_exchange_refuses_for_min_notional_fails_the_run_with_its_words_in_the_journal(
        tmp_path, binance_server):
    # Arrange
    portfolio(tmp_path, binance_server.url)
    before = dict(binance_server.balances)
    binance_server.fail_next("/api/v3/order", 400, body={"code": -1013, "msg": "Filter failure: NOTIONAL"},
                             method="POST")
    # Act
    result = run_cli("rebalance", "--yes", cwd=tmp_path, env=KEYS)
    # Assert
    assert result.returncode == 4
    assert "sell BTC was refused by the venue" in result.stdout and "Filter failure: NOTIONAL" in result.stdout
    rows = legs(tmp_path)
    assert rows[0][1:4] == ("sell", "BTC", "rejected") and "Filter failure: NOTIONAL" in rows[0][5]
    assert {r[3] for r in rows[1:]} <= {"cancelled"}
    assert binance_server.balances == before and binance_server.orders == []


def test_the_keys_never_appear_in_output_or_the_journal(tmp_path, binance_server):
    # Arrange
    portfolio(tmp_path, binance_server.url)
    binance_server.fail_next("/api/v3/account", 401, body={"code": -2015, "msg": "Invalid API-key, IP, or "
                                                           "permissions for action."})
    # Act
    refused = run_cli("status", cwd=tmp_path, env=KEYS)
    done = run_cli("rebalance", "--yes", "--json", cwd=tmp_path, env=KEYS)
    history = run_cli("history", "--json", cwd=tmp_path, env=KEYS)
    # Assert
    assert refused.returncode == 4 and "check the API key" in refused.stdout + refused.stderr
    assert done.returncode == 0, done.stderr
    journal = (tmp_path / "trimtab.db").read_bytes()
    for secret in (API_KEY, SECRET):
        for text in (refused.stdout, refused.stderr, done.stdout, done.stderr, history.stdout, history.stderr):
            assert secret not in text
        assert secret.encode() not in journal


def test_a_missing_key_variable_is_one_sentence_naming_it(tmp_path, binance_server):
    # Arrange
    portfolio(tmp_path, binance_server.url)
    # Act
    result = run_cli("status", cwd=tmp_path, env={"TRIMTAB_API_KEY": "", "TRIMTAB_API_SECRET": ""})
    # Assert
    assert result.returncode == 2 and "TRIMTAB_API_KEY is not set" in result.stdout + result.stderr


def test_venues_check_reports_reach_balances_markets_clock_and_limits(tmp_path, binance_server):
    # Arrange
    portfolio(tmp_path, binance_server.url)
    # Act
    result = run_cli("venues", "check", "--json", cwd=tmp_path, env=KEYS)
    # Assert
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(result.stdout)
    assert report["reachable"] and report["ok"] and report["problems"] == []
    assert report["balances"]["USDT"] == 10000 and report["markets"] == ["BTC", "ETH", "SOL"]
    assert abs(report["clock_skew_seconds"]) < 1 and report["rate_limit"]["limiter"] is True


def test_venues_check_says_what_to_do_about_a_skewed_clock_and_a_refused_key(tmp_path, binance_server):
    # Arrange
    portfolio(tmp_path, binance_server.url)
    binance_server.clock_offset_ms = 5000
    # Act
    skewed = run_cli("venues", "check", cwd=tmp_path, env=KEYS)
    wrong_key = run_cli("venues", "check", cwd=tmp_path, env={**KEYS, "TRIMTAB_API_KEY": "not-the-key"})
    # Assert
    assert skewed.returncode == 4 and "behind binance" in skewed.stdout and "NTP" in skewed.stdout
    assert wrong_key.returncode == 4 and "the key was refused" in wrong_key.stdout
    assert "not-the-key" not in wrong_key.stdout + wrong_key.stderr


def test_venues_check_on_an_unreachable_exchange_is_one_line_per_problem(tmp_path):
    # Arrange
    portfolio(tmp_path, "http://127.0.0.1:9")
    # Act
    result = run_cli("venues", "check", cwd=tmp_path, env=KEYS)
    # Assert
    assert result.returncode == 4 and "NOT reachable" in result.stdout
    assert "check the network" in result.stdout


def test_a_dry_run_shows_what_routing_eth_for_btc_through_eth_btc_would_save(tmp_path, binance_server):
    # Arrange: ETH overweight, BTC underweight: a sell of ETH and a buy of BTC
    binance_server.set_balance("ETH", 5)
    binance_server.set_balance("BTC", 0)
    portfolio(tmp_path, binance_server.url, pairs=True)
    # Act
    result = run_cli("rebalance", "--dry-run", "--json", cwd=tmp_path, env=KEYS)
    text = run_cli("rebalance", "--dry-run", cwd=tmp_path, env=KEYS)
    # Assert
    assert result.returncode == 0, result.stderr
    pairs = json.loads(result.stdout)["direct_pairs"]
    (trade,) = pairs["trades"]
    assert (trade["sell"], trade["buy"], trade["market"]) == ("ETH", "BTC", "ETH/BTC")
    assert pairs["saving"] == pytest.approx(trade["value"] * 0.001, abs=0.005) and pairs["executed"]  # cents
    assert "direct pair: sell" in text.stdout and "would save" in text.stdout
    assert binance_server.requests_to(*ORDER) == []


def test_rebalance_sends_eth_for_btc_through_eth_btc_once_despite_a_lost_answer_and_conserves_value(tmp_path, binance_server):
    # Arrange: ETH overweight, BTC underweight; ETH/USDT at the ETH/BTC cross (0.03077 x 65,000)
    binance_server.set_balance("ETH", 5)
    binance_server.set_balance("BTC", 0)
    binance_server.set_price("ETH/USDT", "2000.05")
    portfolio(tmp_path, binance_server.url, pairs=True)
    prices = {**PRICES, "ETH": Decimal("2000.05")}
    before = value(binance_server, prices)
    binance_server.drop_response_of_next_order()  # the pair order goes first; its answer is lost
    # Act
    result = run_cli("rebalance", "--yes", "--json", cwd=tmp_path, env=KEYS)
    # Assert
    assert result.returncode == 0, result.stdout + result.stderr
    assert json.loads(result.stdout)["run"]["state"] == "completed"
    with sqlite3.connect(tmp_path / "trimtab.db") as db:
        rows = db.execute("SELECT kind, side, asset, state, fee FROM legs ORDER BY idx").fetchall()
    assert ("pair", "sell", "ETH/BTC", "filled") in [r[:4] for r in rows]
    pair_orders = [o for o in binance_server.orders if o["symbol"] == "ETHBTC"]
    assert len(pair_orders) == 1 and len(binance_server.requests_to(*ORDER)) == len(binance_server.orders)
    fees = sum(Decimal(str(r[4])) for r in rows)
    assert before - value(binance_server, prices) == pytest.approx(fees, abs=Decimal("0.01"))
    weights = {a: q * prices[a] / value(binance_server, prices) for a, q in binance_server.balances.items()}
    assert float(weights["BTC"]) == pytest.approx(0.2, abs=0.01) and float(weights["ETH"]) == pytest.approx(0.3, abs=0.01)
