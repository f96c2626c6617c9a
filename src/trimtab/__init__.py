"""trimtab keeps a crypto portfolio on its target weights: it measures drift, decides when it
matters, plans the fewest and cheapest trades, and records every decision."""

from trimtab.api import plan, status
from trimtab.config import Config, load_config
from trimtab.core.assessment import Assessment
from trimtab.core.assets import Targets
from trimtab.errors import Denied, InputError, TrimtabError, VenueError

__version__ = "0.1.0"

__all__ = [
    "Assessment",
    "Config",
    "Denied",
    "InputError",
    "Targets",
    "TrimtabError",
    "VenueError",
    "load_config",
    "plan",
    "status",
]
