"""The dashboard's FastAPI app: server-rendered pages (Jinja2) over a JSON API under ``/api``.

``create_app`` is the factory; ``trimtab serve`` runs it under uvicorn. Every page reads what
it shows through ``DashboardData`` (the API returns the same documents), the drift chart is drawn
by the vendored uPlot, and pages follow a live run by polling ``/api/portfolios/{name}/checks``.
Read only, except the "rebalance now" button a config may allow: it plans, then executes that plan
by id through the same ``PlanDesk`` (guardrails, caps, kill switch, approval) as MCP and Python.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

from fastapi import Body, FastAPI, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from trimtab.errors import Denied, TrimtabError
from trimtab.interfaces.numbers import round_document
from trimtab.interfaces.web.advice import band_advice
from trimtab.interfaces.web.context import PortfolioContext
from trimtab.interfaces.web.data import WINDOWS, DashboardData
from trimtab.interfaces.web.security import Guard, allowed_hosts
from trimtab.journal import Journal

HERE = Path(__file__).resolve().parent


def create_app(journal: Journal, *, contexts: Mapping[str, PortfolioContext] | None = None, token: str | None = None,
               bind: str = "127.0.0.1", extra_hosts: Iterable[str] = (), poll_seconds: float = 5.0,
               warm: bool = True) -> Any:
    """The dashboard over ``journal`` (an ASGI app: FastAPI behind the Host/token guard)."""
    data = DashboardData(journal, contexts)
    if warm:  # read every portfolio's checks once in the background, so the first drift page is quick
        import threading

        threading.Thread(target=data.warm, name="trimtab-dashboard-warm", daemon=True).start()
    # no /docs page: FastAPI's would load Swagger UI from a CDN, and nothing here may need the internet
    app = FastAPI(title="trimtab dashboard", version="1", docs_url=None, openapi_url="/api/openapi.json",
                  redoc_url=None,
                  description="Read-only views of a trimtab journal: portfolios, drift over time, runs, advice.")
    app.state.data = data
    from fastapi.middleware.gzip import GZipMiddleware

    app.add_middleware(GZipMiddleware, minimum_size=1024, compresslevel=5)  # 9 costs 8x the time for 3% less
    templates = Jinja2Templates(directory=str(HERE / "templates"))
    templates.env.filters.update(pct=_pct, money=_money, qty=_qty, age=_age)
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
    from trimtab.monitor.metrics import make_metrics_app

    app.mount("/metrics", make_metrics_app(journal), name="metrics")  # Prometheus, read from the journal

    from fastapi.exceptions import RequestValidationError
    from starlette.exceptions import HTTPException as StarletteHTTPException

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException) -> Response:
        return _error(request, error.status_code, str(error.detail))

    @app.exception_handler(RequestValidationError)
    async def bad_input(request: Request, error: RequestValidationError) -> Response:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first.get("loc", ()) if part not in ("query", "path", "body"))
        return _error(request, 422, f"{where}: {first.get('msg', 'invalid')}.")

    def known(name: str) -> None:
        if not data.has(name):
            raise HTTPException(404, f"The journal has no portfolio {name!r}.")

    def page(request: Request, template: str, **values: Any) -> HTMLResponse:
        return templates.TemplateResponse(request, template, {"poll_seconds": poll_seconds, **values})

    # -- JSON API ---------------------------------------------------------------------------------

    @app.get("/healthz", tags=["health"], summary="200 when the journal is reachable, with the age of the last check")
    def healthz() -> JSONResponse:
        try:
            return JSONResponse(round_document(data.health()))
        except Exception as e:  # noqa: BLE001 - unreachable journal: say so, in one sentence
            return JSONResponse({"journal": "unreachable", "error": f"{type(e).__name__}: {str(e).splitlines()[0]}"},
                                status_code=503)

    @app.get("/api/portfolios", tags=["portfolios"], summary="Every portfolio in the journal")
    def api_portfolios() -> JSONResponse:
        return JSONResponse(round_document(data.portfolios()))

    @app.get("/api/portfolios/{name}", tags=["portfolios"], summary="Weights against targets, holdings, policy")
    def api_portfolio(name: str) -> JSONResponse:
        known(name)
        return JSONResponse(round_document(data.portfolio(name)))

    @app.get("/api/portfolios/{name}/returns", tags=["portfolios"],
             summary="Time-weighted (flows removed) and money-weighted returns, net flows, over a window")
    def api_returns(name: str, window: str = Query("all", pattern="^(day|week|month|all)$")) -> JSONResponse:
        known(name)
        return JSONResponse(round_document(data.returns(name, window)))

    @app.get("/api/portfolios/{name}/drift", tags=["drift"],
             summary="Max and per-asset drift over a window, min/max-downsampled; bands; rebalances")
    def api_drift(name: str, window: str = Query("all", pattern="^(day|week|month|all)$"),
                  start: datetime | None = None, end: datetime | None = None,
                  width: int = Query(1000, ge=10, le=4000)) -> JSONResponse:
        known(name)
        return _encoded(data.drift(name, window=window, start=start, end=end, width=width))

    @app.get("/api/portfolios/{name}/checks", tags=["drift"],
             summary="Checks written after check id `after` (how pages follow a live run)")
    def api_checks(name: str, after: int = Query(0, ge=0), limit: int = Query(500, ge=1, le=5000)) -> JSONResponse:
        known(name)
        return JSONResponse(round_document(data.checks_after(name, after, limit)))

    @app.get("/api/portfolios/{name}/runs", tags=["runs"], summary="Runs, newest first, with fees and slippage")
    def api_runs(name: str) -> JSONResponse:
        known(name)
        return JSONResponse(round_document(data.runs(name)))

    @app.get("/api/runs/{run_id}", tags=["runs"], summary="One run: legs, fills, bridges, fees, state")
    def api_run(run_id: str) -> JSONResponse:
        run = data.run(run_id)
        if run is None:
            raise HTTPException(404, f"The journal has no run {run_id!r}.")
        return JSONResponse(round_document(run))

    @app.get("/api/portfolios/{name}/advice", tags=["advice"], summary="Is the band right? Advice with its figures")
    def api_advice(name: str, days: float = Query(30.0, gt=0, le=36500)) -> JSONResponse:
        known(name)
        return JSONResponse(round_document(band_advice(data, name, days)))

    @app.post("/api/portfolios/{name}/plans", tags=["rebalance"],
              summary="Plan a rebalance now (only when the config allows the button); returns the stored plan")
    def api_plan(name: str, _: Annotated[dict[str, Any] | None, Body()] = None) -> JSONResponse:
        desk = _desk(data, name)
        from trimtab.interfaces.agent_tools import plan_view

        return _refusals(desk, lambda: {"plan": plan_view(desk.plan(), desk.rails.require_approval)
                                        .model_dump(mode="json")})

    @app.post("/api/portfolios/{name}/plans/{plan_id}/execute", tags=["rebalance"],
              summary="Execute a stored plan by id through the agent guardrails")
    def api_execute(name: str, plan_id: str, _: Annotated[dict[str, Any] | None, Body()] = None) -> JSONResponse:
        desk = _desk(data, name)

        def execute() -> dict[str, Any]:
            done = desk.execute(plan_id)
            return {"plan_id": done.plan.id, "plan_state": done.plan.state, "run": done.outcome.run_id,
                    "state": done.outcome.state, "reason": done.outcome.reason, "fees": done.outcome.fees}

        return _refusals(desk, execute)

    # -- pages --------------------------------------------------------------------------------------

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon() -> Response:
        return Response(status_code=204)

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def portfolios_page(request: Request) -> HTMLResponse:
        return page(request, "portfolios.html", rows=data.portfolios())

    @app.get("/portfolios/{name}", response_class=HTMLResponse, include_in_schema=False)
    def portfolio_page(request: Request, name: str) -> HTMLResponse:
        known(name)
        return page(request, "portfolio.html", p=data.portfolio(name), name=name)

    @app.get("/portfolios/{name}/drift", response_class=HTMLResponse, include_in_schema=False)
    def drift_page(request: Request, name: str, window: str = Query("all", pattern="^(day|week|month|all)$")) -> HTMLResponse:
        known(name)
        return page(request, "drift.html", name=name, window=window, windows=list(WINDOWS),
                    last=data.last_check(name))

    @app.get("/portfolios/{name}/runs", response_class=HTMLResponse, include_in_schema=False)
    def runs_page(request: Request, name: str) -> HTMLResponse:
        known(name)
        return page(request, "runs.html", name=name, runs=data.runs(name))

    @app.get("/runs/{run_id}", response_class=HTMLResponse, include_in_schema=False)
    def run_page(request: Request, run_id: str) -> HTMLResponse:
        run = data.run(run_id)
        if run is None:
            raise HTTPException(404, f"The journal has no run {run_id!r}.")
        return page(request, "run.html", run=run, name=run["portfolio"])

    @app.get("/portfolios/{name}/advice", response_class=HTMLResponse, include_in_schema=False)
    def advice_page(request: Request, name: str, days: float = Query(30.0, gt=0, le=36500)) -> HTMLResponse:
        known(name)
        return page(request, "advice.html", name=name, a=band_advice(data, name, days), days=days)

    return Guard(app, hosts=allowed_hosts(bind, extra_hosts), token=token)


_ENCODED: dict[int, tuple[Any, bytes]] = {}


def _encoded(document: Any) -> Response:
    """``document`` as a JSON response, encoded once while the cache hands out the same document."""
    import json

    hit = _ENCODED.get(id(document))
    if hit is None or hit[0] is not document:
        if len(_ENCODED) >= 64:
            _ENCODED.pop(next(iter(_ENCODED)))
        hit = _ENCODED[id(document)] = (document, json.dumps(document, separators=(",", ":")).encode())
    return Response(hit[1], media_type="application/json")


def _error(request: Request, status: int, sentence: str) -> Response:
    """An error in one sentence: ``{"error": ...}`` for the API, a short page for a person."""
    if request.url.path.startswith("/api") or "text/html" not in request.headers.get("accept", ""):
        return JSONResponse({"error": sentence}, status_code=status)
    from html import escape

    return HTMLResponse(f"<!doctype html><title>{status}</title><link rel=stylesheet href=/static/dashboard.css>"
                        f"<main><h1>{status}</h1><p>{escape(sentence)}</p><p><a href=/>All portfolios</a></p></main>",
                        status_code=status)


def _desk(data: DashboardData, name: str):  # type: ignore[no-untyped-def]
    context = data.contexts.get(name)
    if context is None or context.open_desk is None:
        raise HTTPException(403, "Rebalancing from the dashboard is off: set [dashboard] allow_rebalance = true "
                                 "in this portfolio's config and start it with --config.")
    return context.open_desk()


def _refusals(desk, action) -> JSONResponse:  # type: ignore[no-untyped-def]
    """Run ``action`` on ``desk`` and close what the desk opened; a guardrail refusal is a 409 with
    its code, bad input a 400, both in one sentence."""
    try:
        return JSONResponse(action())
    except Denied as e:
        return JSONResponse({"error": str(e), "code": e.code}, status_code=409)
    except TrimtabError as e:
        return JSONResponse({"error": str(e)}, status_code=400)
    finally:
        desk.agent.journal.close()
        close = getattr(desk.agent.venue, "close", None)
        if close is not None:
            close()


def _pct(x: float | None, digits: int = 2) -> str:
    return "-" if x is None else f"{x * 100:.{digits}f}%"


def _money(x: float | None, digits: int = 2) -> str:
    return "-" if x is None else f"{x:,.{digits}f}"


def _qty(x: float | None) -> str:
    return "-" if x is None else f"{x:.8g}"


def _age(seconds: float | None) -> str:
    if seconds is None:
        return "never"
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds / size:.0f} {unit} ago"
    return f"{seconds:.0f} s ago"
