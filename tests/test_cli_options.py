"""No option is silently ignored or misread: each is applied, or refused with one sentence and exit 2."""

import json

import pytest


def _json(result):
    return json.loads(result.stdout)


def test_plan_from_a_config_applies_band_mode_fee_and_min_trade(cli, tmp_path):
    # Arrange: the static seed portfolio (BTC 65% against 50%) on a threshold policy with a 5% band
    assert cli("init").returncode == 0
    config = tmp_path / "trimtab.toml"
    config.write_text(config.read_text().replace('kind = "combined"', 'kind = "threshold"'))
    # Act
    plain = _json(cli("plan", "--json"))
    held = _json(cli("plan", "--band", "0.2", "--json"))
    edge = _json(cli("plan", "--band", "0.1", "--mode", "band-edge", "--fee", "0.01", "--min-trade", "0", "--json"))
    dust = _json(cli("plan", "--min-trade", "600", "--json"))
    # Assert
    assert plain["decision"]["reason"] == "BTC drift 0.150 > band 0.050" and len(plain["legs"]) == 2
    assert held["decision"]["rebalance"] is False and "0.200" in held["decision"]["reason"]
    assert edge["mode"] == "band-edge" and [leg["asset"] for leg in edge["legs"]] == ["BTC"]
    assert edge["legs"][0]["value"] == pytest.approx(500.0) and edge["legs"][0]["fee"] == pytest.approx(5.0)
    assert [leg["asset"] for leg in dust["legs"]] == ["BTC"] and dust["skipped"][0]["code"] == "DUST"


@pytest.mark.parametrize("args, words", [
    (["--band", "0.2"], "--band 0.2: The emergency band (0.15) must be wider than the band (0.2)."),
    (["--mode", "sideways"], "--mode sideways: "),
    (["--quote", "USDT"], "--holdings, --prices and --quote go with --targets"),
])
def test_plan_from_a_config_refuses_a_flag_it_cannot_apply(cli, args, words):
    assert cli("init").returncode == 0  # a combined policy: band 0.05, emergency band 0.15
    result = cli("plan", *args, "--json")
    assert result.returncode == 2, result.stdout
    assert words in _json(result)["error"]["message"]


def test_plan_with_a_band_on_a_calendar_config_is_refused(cli, tmp_path):
    assert cli("init").returncode == 0
    config = tmp_path / "trimtab.toml"
    config.write_text(config.read_text().replace('kind = "combined"', 'kind = "calendar"'))
    result = cli("plan", "--relative-band", "0.2")
    assert result.returncode == 2
    assert "policy is calendar, so --relative-band would do nothing" in result.stderr
    edge = cli("plan", "--relative-band", "0.2", "--mode", "band-edge", "--json")
    assert edge.returncode == 0, edge.stderr
    assert json.loads(edge.stdout)["mode"] == "band-edge"


def test_init_paper_without_prices_uses_the_shipped_history_and_says_so(cli):
    from trimtab.data import load_prices

    last = load_prices("daily", ["BTC", "ETH"]).iloc[-1]
    result = cli("init", "--venue", "paper", "--json")
    assert result.returncode == 0, result.stderr
    assert _json(result)["prices_from"]["prices"] == {"BTC": last["BTC"], "ETH": last["ETH"]}
    status = _json(cli("status", "--json"))
    assert {a["asset"]: a["price"] for a in status["assets"] if a["asset"] != "USDC"} == {
        "BTC": last["BTC"], "ETH": last["ETH"]}
    shown = cli("init", "--venue", "paper", "--force")
    assert "prices: the last daily closes in the shipped history" in shown.stdout
    assert f"BTC {last['BTC']:,.2f}" in shown.stdout


def test_init_paper_without_prices_for_an_asset_the_history_lacks_asks_for_them(cli):
    result = cli("init", "--venue", "paper", "--targets", "BTC=0.5,FOO=0.3,USDC=0.2", "--holdings", "BTC=0.1")
    assert result.returncode == 2
    assert "No price history for FOO" in result.stderr and "Give --prices" in result.stderr


@pytest.mark.parametrize("args, words", [
    (["--symbols", "BTC,ETH,SOL"], "--symbols names SOL, which no target holds"),
    (["--policy", "calendar", "--relative-band", "0.25"],
     ("--policy calendar trades on its schedule, back to the targets, so --relative-band would do nothing: use "
      "--policy threshold or combined, or add --mode band-edge")),
    (["--policy", "calendar", "--band", "0.05"], "so --band would do nothing"),
    (["--policy", "never", "--band", "0.05"], "--policy never never rebalances, so --band would do nothing."),
    (["--policy", "threshold", "--schedule", "weekly"],
     "--policy threshold acts on its band alone, so --schedule would do nothing"),
])
def test_backtest_refuses_options_its_policy_or_targets_would_drop(cli, args, words):
    result = cli("backtest", *args, "--start", "2024-01-01", "--end", "2024-03-31", "--json")
    assert result.returncode == 2, result.stdout
    assert words in _json(result)["error"]["message"]


def test_backtest_calendar_takes_a_band_for_band_edge_trades(cli):
    result = cli("backtest", "--policy", "calendar", "--mode", "band-edge", "--band", "0.05",
                 "--start", "2024-01-01", "--end", "2024-06-30", "--json")
    assert result.returncode == 0, result.stderr
    assert _json(result)["rebalance_count"] > 0


def test_backtest_symbols_naming_the_targets_still_work(cli):
    result = cli("backtest", "--symbols", "ETH BTC", "--start", "2024-01-01", "--end", "2024-03-31", "--json")
    assert result.returncode == 0, result.stderr
    assert _json(result)["start"].startswith("2024-01-01")


@pytest.mark.parametrize("chains, words", [
    ("BTC=ethereum-0.5",
     "'ethereum-0.5' in --chains 'BTC=ethereum-0.5' is not a chain name; a share goes after a colon: ethereum:0.5."),
    ("BTC=eth/mainnet", "is not a chain name (letters and digits"),
])
def test_init_refuses_a_chain_name_that_is_a_typo(cli, chains, words):
    result = cli("init", "--venue", "paper", "--prices", "BTC=65000,ETH=2000", "--chains", chains)
    assert result.returncode == 2
    assert words in result.stderr


def test_init_accepts_chain_names_with_words(cli):
    result = cli("init", "--venue", "paper", "--prices", "BTC=65000,ETH=2000",
                 "--chains", "BTC=arbitrum-one:0.5+polygon_pos", "--json")
    assert result.returncode == 0, result.stderr
    assert _json(result)["holdings"]["BTC"] == {"arbitrum-one": 0.05, "polygon_pos": 0.05}


@pytest.mark.parametrize("limit", ["0", "-3"])
def test_history_refuses_a_limit_below_one(cli, limit):
    assert cli("init").returncode == 0
    result = cli("history", "--limit", limit, "--json")
    assert result.returncode == 2
    message = _json(result)["error"]["message"]
    assert "'--limit'" in message and f"{limit} is out of range" in message and "from 1" in message


@pytest.mark.parametrize("command", ["backtest", "sweep"])
def test_a_start_moved_by_a_later_listing_is_said(cli, command):
    result = cli(command, "--targets", "BTC=0.5,SOL=0.3,USDC=0.2", "--start", "2018-01-01", "--end", "2021-01-01",
                 "--json")
    assert result.returncode == 0, result.stderr
    assert _json(result)["start"].startswith("2020-08-11")
    assert ("note: BTC, SOL have prices together only from 2020-08-11, so the backtest starts there, not on "
            "2018-01-01.") in result.stderr


def test_a_start_inside_the_data_gets_no_note(cli):
    result = cli("backtest", "--start", "2018-01-01", "--end", "2018-03-01", "--json")
    assert result.returncode == 0 and "note:" not in result.stderr


@pytest.mark.parametrize("policy", ["calendar", "never"])
def test_the_agents_backtest_tool_runs_a_policy_without_a_band(cli, tmp_path, policy):
    """run_backtest's default band (0.05) is not passed to a policy that would refuse it."""
    from trimtab.interfaces.agent_tools import AgentTools

    assert cli("init").returncode == 0
    view = AgentTools(tmp_path / "trimtab.toml").run_backtest({"BTC": 0.5, "USDC": 0.5}, "2024-01-01", "2024-06-30",
                                                              policy=policy)
    assert view.bars == 182


@pytest.mark.parametrize("args, words", [
    (["--policy", "calendar", "--band", "0.02,0.05"], "--policy calendar would use none of the bands"),
    (["--policy", "threshold,never", "--schedule", "weekly,monthly"],
     "--policy threshold,never would use none of the schedules"),
])
def test_a_sweep_refuses_ranges_no_policy_of_it_uses(cli, args, words):
    result = cli("sweep", *args, "--start", "2024-01-01", "--end", "2024-03-31", "--json")
    assert result.returncode == 2
    assert words in _json(result)["error"]["message"]


def test_a_sweep_of_mixed_policies_keeps_its_bands(cli):
    result = cli("sweep", "--policy", "calendar,threshold", "--band", "0.02,0.05", "--start", "2024-01-01",
                 "--end", "2024-03-31", "--json")
    assert result.returncode == 0, result.stderr
    assert len(_json(result)["rows"]) == 3  # calendar once, threshold at each band
