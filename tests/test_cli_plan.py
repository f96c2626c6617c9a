"""`trimtab plan` as a user runs it: a real subprocess, the seed example, table and JSON."""

import json

SEED_ARGS = ["--targets", "BTC=0.5,ETH=0.3,USDC=0.2", "--holdings", "BTC=0.1,ETH=1.25,USDC=1000",
             "--prices", "BTC=65000,ETH=2000"]


def test_plan_json_has_the_documented_shape_and_the_seed_numbers(cli):
    result = cli("plan", *SEED_ARGS, "--fee", "0.001", "--json")
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)  # exactly one JSON document
    assert doc["quote"] == "USDC" and doc["total_value"] == 10000.0 and doc["max_drift"] == 0.15
    by_asset = {a["asset"]: a for a in doc["assets"]}
    assert [by_asset[a]["drift"] for a in ("BTC", "ETH", "USDC")] == [0.15, -0.05, -0.1]
    assert [by_asset[a]["weight"] for a in ("BTC", "ETH", "USDC")] == [0.65, 0.25, 0.1]
    assert by_asset["BTC"]["relative_drift"] == 0.3
    assert set(by_asset["BTC"]) >= {"asset", "quantity", "price", "value", "weight", "target", "drift", "relative_drift"}
    assert doc["decision"] == {"rebalance": True, "trigger": "band", "reason": "BTC drift 0.150 > band 0.050"}
    assert [(leg["side"], leg["asset"], leg["value"], leg["fee"]) for leg in doc["legs"]] == [
        ("sell", "BTC", 1500.0, 1.5), ("buy", "ETH", 500.0, 0.5)]
    assert doc["turnover"] == 2000.0 and doc["fees"] == 2.0


def test_plan_table_shows_assets_decision_and_legs(cli):
    result = cli("plan", *SEED_ARGS)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    for words in ("BTC", "65.0%", "+15.0%", "-10.0%", "rebalance (BTC drift 0.150 > band 0.050)", "sell", "1,500.00"):
        assert words in out


def test_band_edge_mode_sells_only_back_to_the_edge(cli):
    doc = json.loads(cli("plan", *SEED_ARGS, "--mode", "band-edge", "--json").stdout)
    assert [(leg["side"], leg["asset"], leg["value"]) for leg in doc["legs"]] == [("sell", "BTC", 1000.0)]


def test_a_calm_portfolio_holds_and_dust_is_reported(cli):
    doc = json.loads(cli("plan", "--targets", "BTC=0.5,USDC=0.5", "--holdings", "BTC=0.1,USDC=6490",
                         "--prices", "BTC=65000", "--json").stdout)
    assert doc["decision"]["rebalance"] is False
    assert doc["legs"] == []
    assert doc["skipped"][0]["code"] == "DUST"


def test_plan_without_targets_reads_the_config(cli):
    assert cli("init").returncode == 0
    doc = json.loads(cli("plan", "--json").stdout)
    assert doc["max_drift"] == 0.15 and len(doc["legs"]) == 2


def test_python_dash_m_and_help_work(cli):
    result = cli("--help")
    assert result.returncode == 0
    for command in ("plan", "status", "init"):
        assert command in result.stdout
