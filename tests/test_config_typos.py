"""A misspelt config key is refused by name, with the key that was meant."""

import pytest

from trimtab.config import load_config
from trimtab.errors import ConfigError

BASE = '[portfolio]\ntargets = {BTC = 0.5, USDC = 0.5}\n'


@pytest.mark.parametrize("text, words", [
    (BASE + "[policy]\nbnad = 0.05\n", "policy.bnad: unknown key; did you mean band?"),
    (BASE + "[tradng]\nfee = 0.001\n", "tradng: unknown key; did you mean trading?"),
    (BASE + "[execution]\nkill_swich = true\n", "execution.kill_swich: unknown key; did you mean kill_switch?"),
    (BASE + "[trading]\nxyzzy = 1\n", "trading.xyzzy: unknown key (known keys: mode, min_trade, fee, direct_pairs)"),
])
def test_a_misspelt_key_names_the_key_that_was_meant(tmp_path, text, words):
    path = tmp_path / "trimtab.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert str(caught.value).endswith(words)
