"""Config values that cannot be money, a rate or a time: each is one sentence naming the file, the
key and what is allowed, and exit 2; a fuzzer over mutated configs never sees exit 1."""

import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from trimtab.config import load_config
from trimtab.errors import ConfigError
from trimtab.interfaces.cli.app import app

PAPER = ["init", "--venue", "paper", "--targets", "BTC=0.5,ETH=0.3,USDC=0.2",
         "--holdings", "BTC=0.1,ETH=1.25,USDC=1000", "--prices", "BTC=65000,ETH=2000", "--clock-speed", "0"]


@pytest.fixture
def portfolio(tmp_path, monkeypatch):
    """A paper portfolio made by ``trimtab init``, in the current directory; returns its config text."""
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, PAPER)
    assert result.exit_code == 0, result.output
    return (tmp_path / "trimtab.toml").read_text()


def cli(*args: str):
    return CliRunner().invoke(app, list(args))


@pytest.mark.parametrize("old, new, words", [
    ('plan_ttl = "15m"', 'plan_ttl = "1e9d"', "agent.plan_ttl: must be a duration from 1s to 30d"),
    ('check_every = "1h"', 'check_every = "99999999999w"', "policy.check_every: must be a duration from 1s to 52w"),
    ('cooldown = "0s"', 'cooldown = "1e400s"', "policy.cooldown: must be a duration from 0s to 52w"),
    ('cooldown = "0s"', 'cooldown = "-1h"', "policy.cooldown: must be a duration from 0s to 52w"),
    ("order_latency = 0.0", "order_latency = inf", "venue.order_latency: must be a finite number from 0 to 60 (got inf)"),
    ("order_latency = 0.0", "order_latency = nan", "venue.order_latency: must be a finite number from 0 to 60"),
    ("slippage_bps = 5.0", "slippage_bps = 20000", "venue.slippage_bps: must be a finite number from 0 to 1000 (got 20000)"),
    ("bridge_fee = 0.0005", "bridge_fee = 0.9", "venue.bridge_fee: must be a finite number from 0 to 0.1"),
    ("clock_speed = 0.0", "clock_speed = 1e300", "venue.clock_speed: must be a finite number from 0 to 1e+06"),
    ("fee = 0.001", "fee = 0.5", "trading.fee: must be a finite number from 0 to 0.1"),
    ("min_trade = 10.0", "min_trade = -inf", "trading.min_trade: must be a finite number from 0 to 1e+12"),
    ("max_price_move = 0.02", "max_price_move = 1.5", "execution.max_price_move: must be a finite number above 0 and below 1"),
    ("# max_daily_value = 100000.0", "max_daily_value = inf", "execution.max_daily_value: must be a finite number"),
    ('transfer_timeout = "2h"', 'transfer_timeout = "1e400s"', "execution.transfer_timeout: must be a duration"),
    ("min_notional = 10.0", "min_notional = 1" + "0" * 5000, "(min_notional): a number thousands of digits long"),
    ("bridge_minutes = [2.0, 15.0]", "bridge_minutes = [2.0, 1e9]", "venue.bridge_minutes.1: must be a finite number from 0 to 10080"),
])
def test_a_value_out_of_range_exits_2_naming_the_file_the_key_and_the_range(portfolio, tmp_path, old, new, words):
    assert old in portfolio
    (tmp_path / "trimtab.toml").write_text(portfolio.replace(old, new, 1))
    result = cli("status")
    assert result.exit_code == 2, result.output
    assert "trimtab.toml: " in result.output and words in result.output


@pytest.mark.parametrize("tail, words", [
    (b"\n# \xff\xfe binary\n", "byte 0xff is not UTF-8 text"),
    (b"\nx = 1\x00\x01\x02\n", "a NUL byte"),
    (b"\ndeep = " + b"[" * 5000 + b"]" * 5000 + b"\n", "(deep): arrays or tables nested too deep"),
])
def test_bytes_that_are_not_a_config_exit_2_naming_the_line(portfolio, tmp_path, tail, words):
    (tmp_path / "trimtab.toml").write_bytes(portfolio.encode() + tail)
    result = cli("status", "--json")
    assert result.exit_code == 2, result.output
    assert words in result.output and "trimtab.toml: line " in result.output


def test_the_template_sits_inside_every_bound(portfolio, tmp_path):
    config, _ = load_config(tmp_path / "trimtab.toml")
    assert config.venue.slippage_bps == 5.0 and config.agent.plan_ttl == "15m"


def test_static_prices_must_be_positive_and_holdings_not_negative(tmp_path):
    path = tmp_path / "trimtab.toml"
    path.write_text('[portfolio.targets]\nBTC = 0.5\nUSDC = 0.5\n[venue.holdings]\nBTC = -1\n')
    with pytest.raises(ConfigError, match="venue.holdings.BTC"):
        load_config(path)
    path.write_text('[portfolio.targets]\nBTC = 0.5\nUSDC = 0.5\n[venue.prices]\nBTC = 0\n')
    with pytest.raises(ConfigError, match="venue.prices.BTC"):
        load_config(path)


# -- fuzzing: mutations of a valid trimtab.toml ------------------------------------------------------

NASTY = ["inf", "-inf", "nan", "1e400", "-1", "0", "1" + "0" * 5000, '"1e9d"', '"99999999999w"', '"-5m"', '""',
         '"\\u0000"', "[]", "{}", "[[[[1]]]]", '"' + "x" * 300 + '"', "true", "1979-05-27T07:32:00Z", "0x7fffffff",
         "1e-300", "18446744073709551616", '"1h"', '"ethereum"', "0.5", "20000"]


@st.composite
def mutated(draw, lines):
    rows = list(lines)
    for _ in range(draw(st.integers(1, 4))):
        index = draw(st.integers(0, len(rows) - 1))
        how = draw(st.sampled_from(["value", "delete", "duplicate", "bytes", "truncate", "swap"]))
        row = rows[index]
        if how == "value" and "=" in row and not row.lstrip().startswith("#"):
            rows[index] = row.partition("=")[0] + "= " + draw(st.sampled_from(NASTY))
        elif how == "delete":
            rows.pop(index)
        elif how == "duplicate":
            rows.insert(index, row)
        elif how == "bytes":
            rows[index] = row + draw(st.binary(min_size=1, max_size=8)).decode("latin-1")
        elif how == "truncate":
            rows[index] = row[: draw(st.integers(0, len(row)))]
        else:
            other = draw(st.integers(0, len(rows) - 1))
            rows[index], rows[other] = rows[other], rows[index]
        if not rows:
            rows = [""]
    return "\n".join(rows)


def test_a_fuzzed_config_ends_in_exit_0_or_2_never_an_internal_error(portfolio, tmp_path):
    lines = [row for row in portfolio.splitlines() if row.strip()]
    account = (tmp_path / "trimtab-paper.db").read_bytes()
    outcomes: dict[int, int] = {}

    @settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
    @given(text=mutated(lines), command=st.sampled_from(["status", "plan", "rebalance-dry", "history"]),
           latin=st.booleans())
    def check(text, command, latin):
        (tmp_path / "trimtab.toml").write_bytes(text.encode("latin-1" if latin else "utf-8", errors="replace"))
        (tmp_path / "trimtab-paper.db").write_bytes(account)
        args = {"rebalance-dry": ["rebalance", "--dry-run", "--json"]}.get(command, [command, "--json"])
        result = cli(*args)
        outcomes[result.exit_code] = outcomes.get(result.exit_code, 0) + 1
        assert result.exit_code in (0, 2), (text, result.output)
        assert "internal error" not in result.output

    check()
    assert outcomes.get(2, 0) > 10, outcomes  # the mutations do reach the checks


def test_random_bytes_are_never_an_internal_error(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    generator = random.Random(7)
    for _ in range(30):
        (tmp_path / "trimtab.toml").write_bytes(bytes(generator.randrange(256) for _ in range(generator.randrange(1, 400))))
        result = cli("status")
        assert result.exit_code == 2, result.output


def test_a_key_file_that_is_not_text_is_one_sentence(tmp_path):
    from trimtab.config import read_key_file

    key = tmp_path / "key"
    key.write_bytes(b"\xff\xfe\x00binary")
    key.chmod(0o600)
    with pytest.raises(ConfigError, match="is not text"):
        read_key_file(key)
    key.unlink()
    key.mkdir(mode=0o700)
    key.chmod(0o700)
    with pytest.raises(ConfigError, match="cannot be read: Is a directory"):
        read_key_file(key)
