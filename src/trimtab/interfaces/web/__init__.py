"""``trimtab serve``: the web dashboard (FastAPI, Jinja2 templates, vendored uPlot; extra ``web``).

Nothing here is imported by ``trimtab --help``: the CLI imports ``serve`` inside its command.
``app.create_app`` is the factory, ``data.DashboardData`` every read, ``security`` the bind/token/Host
rules, ``context`` what a config adds to the journal, ``advice`` the Advice page's one call.
"""
