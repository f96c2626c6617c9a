"""Every bad input gets one clear sentence: through the Python API and through the CLI (exit 2)."""

import json

import pytest

import trimtab
from trimtab.errors import InputError

GOOD = dict(targets="BTC=0.5,ETH=0.3,USDC=0.2", holdings="BTC=0.1,ETH=1.25,USDC=1000", prices="BTC=65000,ETH=2000")

# (what, override of the CLI arguments, words the sentence must contain)
BAD_INPUTS = [
    ("weights not summing to 1", {"targets": "BTC=0.5,ETH=0.3,USDC=0.1"}, "sum to 0.9"),
    ("a negative weight", {"targets": "BTC=0.9,ETH=-0.1,USDC=0.2"}, "cannot be negative"),
    ("a target without a price", {"prices": "BTC=65000"}, "No price for ETH"),
    ("a holding without a price", {"holdings": "BTC=0.1,ETH=1.25,USDC=1000,SOL=3"}, "No price for SOL"),
    ("a zero price", {"prices": "BTC=0,ETH=2000"}, "Price of BTC is 0"),
    ("a negative price", {"prices": "BTC=-5,ETH=2000"}, "must be positive"),
    ("a NaN price", {"prices": "BTC=nan,ETH=2000"}, "Price of BTC is nan"),
    ("an empty portfolio", {"holdings": "BTC=0,ETH=0,USDC=0"}, "The portfolio is empty"),
    ("a duplicate target", {"targets": "BTC=0.5,btc=0.3,USDC=0.2"}, "BTC appears twice in the targets"),
    ("a duplicate holding", {"holdings": "BTC=0.1,BTC=0.2,USDC=1"}, "BTC appears twice in the holdings"),
    ("a negative holding", {"holdings": "BTC=-0.1,ETH=1,USDC=1"}, "cannot be negative"),
    ("a malformed pair", {"targets": "BTC:0.5"}, "is not ASSET=NUMBER"),
]


def _api_args(override):
    from trimtab.parsing import parse_pairs

    merged = {**GOOD, **override}
    return {k: parse_pairs(v, k) for k, v in merged.items()}


@pytest.mark.parametrize("what, override, words", BAD_INPUTS, ids=[b[0] for b in BAD_INPUTS])
def test_bad_input_is_one_sentence_from_the_python_api(what, override, words):
    with pytest.raises(InputError) as caught:
        trimtab.plan(**_api_args(override))
    assert words in str(caught.value)
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize("what, override, words", BAD_INPUTS, ids=[b[0] for b in BAD_INPUTS])
def test_bad_input_exits_2_with_one_sentence_and_no_traceback_from_the_cli(cli, what, override, words):
    merged = {**GOOD, **override}
    result = cli("plan", "--targets", merged["targets"], "--holdings", merged["holdings"], "--prices", merged["prices"])
    assert result.returncode == 2, result.stderr
    assert words in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert result.stderr.strip().count("\n") == 0


def test_bad_input_with_json_prints_one_json_error_document(cli):
    result = cli("plan", "--targets", "BTC=0.5,ETH=0.3,USDC=0.1", "--holdings", GOOD["holdings"],
                 "--prices", GOOD["prices"], "--json")
    assert result.returncode == 2
    document = json.loads(result.stdout)
    assert document["error"]["type"] == "InputError"
    assert "sum to 0.9" in document["error"]["message"]


def test_unknown_quote_asset_is_refused(cli):
    with pytest.raises(InputError, match="Unknown quote asset XYZ"):
        trimtab.plan(targets={"BTC": 1}, holdings={"BTC": 1}, prices={"BTC": 1}, quote="XYZ")
    result = cli("plan", "--quote", "XYZ", "--targets", "BTC=1", "--holdings", "BTC=1", "--prices", "BTC=5")
    assert result.returncode == 2
    assert "Unknown quote asset XYZ" in result.stderr


def test_weights_within_one_millionth_of_one_are_accepted():
    sixth = 1 / 6
    targets = {f"A{i}": round(sixth, 7) for i in range(6)}  # sums to 1.0000002
    result = trimtab.plan(targets=targets, holdings={"A0": 1}, prices={f"A{i}": 1.0 for i in range(6)}, quote="USDC")
    assert [a.asset for a in result.drift.assets] == [f"A{i}" for i in range(6)]
    with pytest.raises(InputError, match="sum to"):
        trimtab.plan(targets={**targets, "A0": 0.2}, holdings={"A0": 1}, prices={f"A{i}": 1.0 for i in range(6)})
