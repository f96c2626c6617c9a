"""[[venues]]: a portfolio across venues in the config, refused clearly when it cannot be one."""

import json

import pytest
from cli_composite import make_portfolio
from conftest import run_cli

from trimtab.config import load_config
from trimtab.errors import ConfigError

HEAD = '[portfolio]\ntargets = {BTC = 0.5, USDC = 0.5}\n'


@pytest.mark.parametrize(("body", "words"), [
    ('[venue]\nkind = "paper"\n[[venues]]\nname = "a"\nkind = "paper"\n', "either one [venue] table or several [[venues]]"),
    ('[[venues]]\nname = "a"\nkind = "paper"\n[[venues]]\nname = "a"\nkind = "paper"\naccount = "b.db"\n',
     "venue name 'a' is given twice"),
    ('[[venues]]\nname = "a"\nkind = "paper"\n[[venues]]\nname = "b"\nkind = "paper"\n', "paper account"),
    ('[[venues]]\nname = "a"\nkind = "paper"\n[[venues]]\nname = "b"\nkind = "ccxt"\nexchange = "binance"\n',
     "either all paper or all live"),
    ('[[venues]]\nname = "a"\nkind = "static"\n', "venues.0.kind"),
    ('[[venues]]\nname = "Has Space"\nkind = "paper"\n', "venues.0.name"),
    ('[[venues]]\nname = "a"\nkind = "paper"\nmov_fee = 0.1\n', "did you mean move_fee?"),
    ('venues = []\n', "[[venues]] is empty"),
])
def test_a_portfolio_across_venues_that_cannot_be_is_refused_in_one_sentence(tmp_path, body, words):
    path = tmp_path / "trimtab.toml"
    path.write_text(body + HEAD if body.startswith("venues") else HEAD + body)  # a top-level key before any table
    with pytest.raises(ConfigError) as refused:
        load_config(path)
    assert words in str(refused.value)
    result = run_cli("status", "--json", cwd=tmp_path)
    assert result.returncode == 2 and words in json.loads(result.stdout)["error"]["message"]


def test_the_single_venue_table_is_a_one_venue_portfolio(tmp_path):
    path = tmp_path / "trimtab.toml"
    path.write_text(HEAD + '[venue]\nkind = "paper"\n')
    config, _ = load_config(path)
    assert not config.multi_venue and [name for name, _ in config.members] == ["paper"]


def test_venues_check_checks_each_venue_and_names_it_in_every_line(tmp_path):
    directory = make_portfolio(tmp_path)
    (directory / "paper-perps.db").unlink()
    result = run_cli("venues", "check", cwd=directory)
    assert result.returncode == 4
    lines = [line for line in result.stdout.splitlines() if line.strip()]
    assert all(line.split(":")[0] in ("wallet", "perps", "exchange") or line.startswith("problem: perps:")
               for line in lines), lines
    assert "problem: perps: config: No paper account" in result.stdout
    status = run_cli("status", cwd=directory)
    assert status.returncode == 2 and "Venue perps: no paper account" in status.stderr + status.stdout
    document = json.loads(run_cli("venues", "check", "--json", cwd=directory).stdout)
    assert [v["venue"] for v in document["venues"]] == ["wallet", "perps", "exchange"]
    assert all(p.startswith(("wallet:", "perps:", "exchange:")) for p in document["problems"])


def test_each_paper_venue_has_its_own_fee_and_moves(tmp_path):
    from trimtab.wiring import member_config, paper_settings

    path = tmp_path / "trimtab.toml"
    path.write_text(HEAD + '[trading]\nfee = 0.001\n[[venues]]\nname = "a"\nkind = "paper"\naccount = "a.db"\nfee = 0.002\n'
                    'move_fee = 0.01\nmove_minutes = [1, 2]\ncan_receive = false\n'
                    '[[venues]]\nname = "b"\nkind = "paper"\naccount = "b.db"\norder_latency = 0.5\n')
    config, _ = load_config(path)
    a = paper_settings(member_config(config, "a").venue, config.trading.fee, "USDC")
    b = paper_settings(member_config(config, "b").venue, config.trading.fee, "USDC")
    assert (a.fee, a.move_fee, a.move_minutes, a.can_receive) == (0.002, 0.01, (1.0, 2.0), False)
    assert (b.fee, b.order_latency, b.can_send) == (0.001, 0.5, True)
    assert config.venue_kind == "paper" and [n for n, _ in config.members] == ["a", "b"]
