"""A fleet portfolio's config: read from a file, held to the fleet's rules, and made the fleet's own.

The fleet keeps the TOML text a user wrote. Two rules on top of ``trimtab.config``'s: no secret
may be written in it (alert URLs can carry a token; keys are already named by environment
variable or key file), and its journal is the fleet's database, so a run a dead worker left is
found and finished by whichever worker takes the next job, on any machine.
"""

from __future__ import annotations

from pathlib import Path

from trimtab.config import MAX_CONFIG_BYTES, Config, JournalConfig, config_from_text
from trimtab.errors import ConfigError


def read_fleet_config(path: Path) -> tuple[str, Config]:
    """The text of the config at ``path`` and the config it validates to, or ``ConfigError``."""
    try:
        if path.stat().st_size > MAX_CONFIG_BYTES:
            raise ConfigError(f"{path}: a config is text of at most {MAX_CONFIG_BYTES:,} bytes.")
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such config file.") from None
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(f"{path}: cannot read it ({e.__class__.__name__}).") from None
    config = config_from_text(text, path)
    if config.alerts.urls:
        raise ConfigError(f"{path}: a fleet stores configs in its database and stores no secret, and alert URLs "
                          "can carry a token; remove [alerts] urls from this config.")
    if config.journal.url != JournalConfig().url:
        raise ConfigError(f"{path}: a fleet keeps every portfolio's journal in its own database; remove "
                          "[journal] url from this config.")
    return text, config


def as_fleet_portfolio(config: Config, name: str, fleet_url: str) -> Config:
    """``config`` as the fleet runs it: named ``name``, journaled in the fleet's database."""
    return config.model_copy(update={"portfolio": config.portfolio.model_copy(update={"name": name}),
                                     "journal": config.journal.model_copy(update={"url": fleet_url})})
