"""``trimtab serve``: check the bind and the token, open the journal, run the app under uvicorn."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterable
from pathlib import Path

from trimtab.errors import InputError
from trimtab.interfaces.web.security import TOKEN_ENV, check_bind

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8787


def prepare(*, host: str = DEFAULT_HOST, config: Path | None = None, journal: str | None = None,
            demo_dir: Path | None = None, extra_hosts: Iterable[str] = (), poll_seconds: float = 5.0):  # type: ignore[no-untyped-def]
    """The ASGI app ``trimtab serve`` runs, after the checks that make it refuse to start (exit 2)."""
    token = os.environ.get(TOKEN_ENV) or None
    check_bind(host, token)
    if config is not None and journal is not None:
        raise InputError("Give --config or --journal, not both: the config names its own journal.")
    from trimtab.interfaces.web import context as ctx
    from trimtab.interfaces.web.app import create_app
    from trimtab.journal import Journal

    contexts = {}
    if demo_dir is not None:
        contexts["demo"] = ctx.for_demo(demo_dir)
        url = f"sqlite:///{Path(demo_dir).resolve() / 'demo-journal.db'}"
    elif journal is not None:
        url = journal
        if url.startswith("sqlite:///") and url != "sqlite:///:memory:" and not Path(url[len("sqlite:///"):]).exists():
            raise InputError(f"No journal at {url[len('sqlite:///'):]}: run `trimtab run` or `trimtab demo` first.")
    else:
        from trimtab.config import DEFAULT_CONFIG

        path = Path(config or DEFAULT_CONFIG)
        if config is None and not path.exists():
            raise InputError("No trimtab.toml here: pass --config PATH, or --journal URL to watch a journal "
                             "(e.g. sqlite:///trimtab-demo/demo-journal.db).")
        context, url, _ = ctx.from_config(path)
        contexts[context.name] = context
    return create_app(Journal.open(url), contexts=contexts, token=token, bind=host, extra_hosts=extra_hosts,
                      poll_seconds=poll_seconds)


def serve(*, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT, announce=print, **options) -> None:  # type: ignore[no-untyped-def]
    """Run the dashboard until Ctrl-C."""
    app = prepare(host=host, **options)
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as e:
            raise InputError(f"Cannot listen on {host}:{port}: {e.strerror}; pick another --port.") from None
    import uvicorn

    shown = f"[{host}]" if ":" in host else host
    announce(f"trimtab dashboard on http://{shown}:{port}/ (Ctrl-C stops)"
             + ("; open it once with ?token=$" + TOKEN_ENV if os.environ.get(TOKEN_ENV) else ""))
    uvicorn.run(app, host=host, port=port, log_level="warning", proxy_headers=False, server_header=False)
