"""Watching trimtab run: threshold advice (``advice.py``), Prometheus metrics read from the journal
(``metrics.py``) and alerts sent to apprise URLs (``alerts.py``). Above the engine, journal and
backtester; below the interfaces. apprise and prometheus_client are imported only inside the
functions that use them (both in the base install)."""
