"""Bad flags, everywhere: a number that is not finite or out of range is refused by the parser with
one sentence and exit 2, and with --json the refusal is also the one {"error": ...} document."""

import json

import pytest
from typer.testing import CliRunner

from trimtab.interfaces.cli.app import app

WHAT_IF = ["--targets", "BTC=0.5,USDC=0.5", "--holdings", "BTC=1,USDC=1", "--prices", "BTC=2"]


def invoke(*args: str):
    return CliRunner().invoke(app, list(args))


@pytest.mark.parametrize("args, words", [
    (["plan", "--band", "abc"], "'abc' is not a number"),
    (["plan", *WHAT_IF, "--min-trade", "nan"], "'nan' is not a finite number"),
    (["plan", *WHAT_IF, "--min-trade", "inf"], "'inf' is not a finite number"),
    (["plan", *WHAT_IF, "--min-trade", "-1"], "-1 is out of range; give a number from 0 to 1e+12"),
    (["plan", *WHAT_IF, "--fee", "nan"], "'nan' is not a finite number"),
    (["plan", *WHAT_IF, "--band", "inf"], "'inf' is not a finite number"),
    (["init", "--slippage-bps", "20000"], "20000 is out of range; give a number from 0 to 1000"),
    (["init", "--clock-speed", "nan"], "'nan' is not a finite number"),
    (["backtest", "--capital", "inf"], "'inf' is not a finite number"),
    (["backtest", "--min-trade", "1e400"], "'1e400' is not a finite number"),
    (["history", "--limit", "-5"], "-5 is out of range; give a whole number from 1"),
    (["plan", "--bogus"], "No such option: --bogus"),
])
def test_a_refused_flag_is_one_json_error_on_stdout_and_exit_2(tmp_path, monkeypatch, args, words):
    monkeypatch.chdir(tmp_path)
    result = invoke(*args, "--json")
    assert result.exit_code == 2, result.output
    document = json.loads(result.stdout)
    assert words in document["error"]["message"]
    assert words.split()[0] in result.stderr
    assert not (tmp_path / "trimtab.toml").exists()  # init refused before writing anything


def test_without_json_the_refusal_is_on_stderr_only(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = invoke("plan", *WHAT_IF, "--min-trade", "nan")
    assert result.exit_code == 2 and result.stdout == ""
    assert "not a finite number" in result.stderr


@pytest.mark.parametrize("flag, text", [("--targets", "BTC=nan,USDC=0.5"), ("--holdings", "BTC=inf,USDC=1"),
                                        ("--prices", "BTC=-inf")])
def test_asset_numbers_must_be_finite(flag, text):
    args = dict(zip(WHAT_IF[::2], WHAT_IF[1::2], strict=True)) | {flag: text}
    result = invoke("plan", *[x for pair in args.items() for x in pair], "--json")
    assert result.exit_code == 2
    assert "give a finite number" in json.loads(result.stdout)["error"]["message"]


def test_the_loop_interval_must_be_in_range(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert invoke("init").exit_code == 0
    result = invoke("run", "--once", "--interval", "-1h", "--json")
    assert result.exit_code == 2
    assert "from 1s to 52w" in json.loads(result.stdout)["error"]["message"]


@pytest.mark.parametrize("value", [float("nan"), float("inf"), -1.0])
def test_the_python_api_refuses_a_min_trade_that_is_not_a_finite_amount(value):
    import trimtab
    from trimtab.errors import InputError

    with pytest.raises(InputError, match="give a finite amount of at least 0"):
        trimtab.plan(targets={"BTC": 0.5, "USDC": 0.5}, holdings={"BTC": 1, "USDC": 1}, prices={"BTC": 2},
                     min_trade=value)
