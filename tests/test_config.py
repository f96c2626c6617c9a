"""The config file: written with comments by `trimtab init`, validated with the key named."""

import os

import pytest

from trimtab.config import load_config, read_secret
from trimtab.errors import ConfigError


def test_init_writes_a_commented_config_that_status_reads(cli, tmp_path):
    result = cli("init")
    assert result.returncode == 0, result.stderr
    text = (tmp_path / "trimtab.toml").read_text()
    assert "# The quote asset" in text and "[portfolio.targets]" in text
    config, path = load_config(tmp_path / "trimtab.toml")
    assert config.targets.weights == {"BTC": 0.5, "ETH": 0.3, "USDC": 0.2}
    assert config.policy.kind == "combined" and config.trading.fee == 0.001
    status = cli("status")
    assert status.returncode == 0, status.stderr
    assert "BTC drift 0.150 > band 0.050" in status.stdout


def test_init_refuses_to_overwrite_without_force(cli, tmp_path):
    assert cli("init").returncode == 0
    again = cli("init")
    assert again.returncode == 2 and "already exists" in again.stderr
    assert cli("init", "--force", "--targets", "BTC=0.6,USDC=0.4").returncode == 0
    assert load_config(tmp_path / "trimtab.toml")[0].targets.weights == {"BTC": 0.6, "USDC": 0.4}


def write(tmp_path, text):
    path = tmp_path / "trimtab.toml"
    path.write_text(text)
    return path


BASE = '[portfolio]\nquote = "USDC"\n[portfolio.targets]\nBTC = 0.5\nUSDC = 0.5\n'


@pytest.mark.parametrize(
    "text, words",
    [
        (BASE + "[policy]\nband = 'wide'\n", "policy.band: Input should be a valid number"),
        (BASE + "[policy]\nbnad = 0.05\n", "policy.bnad: unknown key"),
        (BASE + "[trading]\nfee = -1\n", "trading.fee: must be a finite number from 0 to 0.1 (got -1)"),
        ('[portfolio]\n[portfolio.targets]\nBTC = 0.5\nETH = 0.3\n', "portfolio: Target weights sum to 0.8"),
        ('[portfolio]\nquote = "XYZ"\n[portfolio.targets]\nBTC = 1\n', "portfolio.quote: Unknown quote asset XYZ"),
        (BASE + "[policy]\nkind = 'calendar'\nschedule = 'fortnightly'\n", "policy.schedule"),
        (BASE + "[policy]\ncheck_every = 'soon'\n", "policy.check_every: must be a duration from 1s to 52w, such as 30s, 15m, 1h, 1d or 1w (got 'soon')"),
        ("[portfolio\n", "not valid TOML"),
        ("", "portfolio: missing"),
    ],
)
def test_an_invalid_config_names_the_file_the_key_and_what_was_expected(tmp_path, text, words):
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert str(caught.value).startswith(str(path))
    assert words in str(caught.value)


def test_an_invalid_config_exits_2_from_the_cli(cli, tmp_path):
    write(tmp_path, BASE + "[policy]\nbnad = 0.05\n")
    result = cli("status")
    assert result.returncode == 2
    assert "trimtab.toml: policy.bnad: unknown key" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_missing_config_says_how_to_make_one(cli):
    result = cli("status")
    assert result.returncode == 2 and "trimtab init" in result.stderr


def test_secrets_come_from_the_environment_and_never_print(monkeypatch):
    monkeypatch.setenv("TRIMTAB_TEST_KEY", "s3cr3t-value")
    secret = read_secret("TRIMTAB_TEST_KEY")
    assert secret.get_secret_value() == "s3cr3t-value"
    assert "s3cr3t" not in repr(secret) and "s3cr3t" not in str(secret)
    monkeypatch.delenv("TRIMTAB_TEST_KEY")
    with pytest.raises(ConfigError, match="TRIMTAB_TEST_KEY is not set"):
        read_secret("TRIMTAB_TEST_KEY")
    assert "TRIMTAB_TEST_KEY" not in os.environ


def test_a_paper_config_with_execution_guards_loads_and_names_a_bad_key(tmp_path):
    good = write(tmp_path, BASE + '[venue]\nkind = "paper"\norder_latency = 0.5\nbridge_minutes = [2, 15]\n'
                 '[venue.markets]\nbtc = "ethereum"\n[execution]\nmax_daily_value = 5000.0\nkill_switch = true\n')
    config, _ = load_config(good)
    assert config.venue.kind == "paper" and config.venue.markets == {"BTC": "ethereum"}
    assert config.execution.max_daily_value == 5000.0 and config.execution.kill_switch is True
    bad = write(tmp_path, BASE + '[venue]\nkind = "paper"\nbridge_minutes = [15, 2]\n')
    with pytest.raises(ConfigError, match="venue.bridge_minutes"):
        load_config(bad)
    typo = write(tmp_path, BASE + "[execution]\nmax_dayly_value = 1.0\n")
    with pytest.raises(ConfigError, match="execution.max_dayly_value: unknown key"):
        load_config(typo)
