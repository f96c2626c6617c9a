"""A paper portfolio priced live from another venue (read-only): paper trading at an exchange's prices.

The exchange is the Binance fake on 127.0.0.1 driven through real ccxt; the paper account trades,
the exchange only answers price reads.
"""

import json
from pathlib import Path

import pytest
from conftest import run_cli
from fakes.binance_spot import API_KEY, SECRET
from fakes.fixtures import binance_server  # noqa: F401 - fixture

KEYS = {"TRIMTAB_API_KEY": API_KEY, "TRIMTAB_API_SECRET": SECRET}


def priced_paper_portfolio(root: Path, url: str) -> Path:
    feed, paper = root / "feed", root / "paper"
    feed.mkdir()
    paper.mkdir()
    made = run_cli("init", "--venue", "ccxt", "--exchange", "binance", "--api-url", url, "--quote", "USDT",
                   "--targets", "BTC=0.5,ETH=0.3,USDT=0.2", cwd=feed, env=KEYS)
    assert made.returncode == 0, made.stderr
    made = run_cli("init", "--venue", "paper", "--quote", "USDT", "--targets", "BTC=0.5,ETH=0.3,USDT=0.2",
                   "--holdings", "BTC=0.1,ETH=1.25,USDT=1000", "--prices", "BTC=60000,ETH=2000",
                   "--clock-speed", "1", cwd=paper)
    assert made.returncode == 0, made.stderr
    config = paper / "trimtab.toml"
    text = config.read_text().replace('price_source = "fixed"', 'price_source = "venue"\nprice_from = "../feed/trimtab.toml"')
    config.write_text(text)
    return paper


def test_a_paper_portfolio_reads_live_prices_from_another_venue_and_never_trades_there(tmp_path, binance_server):
    # Arrange: the paper table says BTC 60,000; the exchange says 65,000 (the fake's price)
    paper = priced_paper_portfolio(tmp_path, binance_server.url)
    # Act
    status = run_cli("status", "--json", cwd=paper, env=KEYS)
    done = run_cli("rebalance", "--yes", "--json", cwd=paper, env=KEYS)
    after = run_cli("status", "--json", cwd=paper, env=KEYS)
    # Assert
    assert status.returncode == 0, status.stderr
    prices = {a["asset"]: a["price"] for a in json.loads(status.stdout)["assets"]}
    assert prices["BTC"] == 65000.0 and prices["ETH"] == 2000.0
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["run"]["state"] == "completed"
    assert json.loads(after.stdout)["max_drift"] < 0.01
    assert binance_server.requests_to("/api/v3/order", "POST") == []  # nothing was sent to the exchange


@pytest.mark.parametrize(
    "edit, words",
    [
        ('price_source = "venue"', "needs price_from"),
        ('price_source = "venue"\nprice_from = "x.toml"\nclock_speed = 60.0', "clock_speed must be 1"),
    ],
)
def test_a_venue_price_source_without_its_venue_or_on_a_fast_clock_is_refused_by_key(tmp_path, edit, words):
    # Arrange
    made = run_cli("init", "--venue", "paper", cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    config = tmp_path / "trimtab.toml"
    text = config.read_text().replace('price_source = "fixed"', edit)
    if "clock_speed = 60.0" in edit:
        text = text.replace("clock_speed = 60.0\n", "", 1)
    config.write_text(text)
    # Act
    result = run_cli("status", cwd=tmp_path)
    # Assert
    assert result.returncode == 2
    assert "venue" in result.stderr and words in result.stderr
