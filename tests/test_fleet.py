"""The fleet against a real PostgreSQL: the store's schedule, the CLI, and the short scale run
(200 paper portfolios, 2 real `trimtab worker` processes, one SIGKILL of the worker holding a run
in flight): every slot checked exactly once, no duplicate order, no run left unfinished."""

import importlib.util
import json
import sys
import threading
from datetime import timedelta

import pytest
from conftest import ROOT, run_cli

from trimtab.errors import InputError
from trimtab.fleet.store import FleetStore, next_slot_at, slot_offset

_spec = importlib.util.spec_from_file_location("fleet_scale", ROOT / "benchmarks" / "fleet_scale.py")
fleet_scale = importlib.util.module_from_spec(_spec)
sys.modules["fleet_scale"] = fleet_scale
_spec.loader.exec_module(fleet_scale)


@pytest.fixture
def fleet_url(postgres_url, tmp_path):
    """A database of its own on the session's PostgreSQL server."""
    from postgres_server import fresh_database

    return fresh_database(postgres_url, f"fleet_{tmp_path.name.lower().replace('-', '_')[:40]}")


def _jobs(store):
    with store.engine.connect() as c:
        return sorted((r[0], r[1]) for r in c.exec_driver_sql(
            "SELECT args->>'name', args->>'slot' FROM procrastinate_jobs"))


def test_slots_spread_over_the_interval_and_each_is_queued_once_by_racing_dispatchers(fleet_url, tmp_path):
    # Arrange: 30 hourly portfolios on a clock stopped at START; three hours pass
    store = FleetStore.open(fleet_url)
    store.set_clock(fleet_scale.START, speed=0.0)
    store.add_many([(f"p{i}", "x", tmp_path, 3600.0) for i in range(30)])
    offsets = {slot_offset(f"p{i}", 3600.0) for i in range(30)}
    store.set_clock(fleet_scale.START + timedelta(hours=3), speed=0.0)
    # Act: four dispatchers at once, twice each
    threads = [threading.Thread(target=lambda: [store.dispatch(), store.dispatch()]) for _ in range(4)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    # Assert: three slots per portfolio (the first at or after START), each queued once
    jobs = _jobs(store)
    assert len(jobs) == len(set(jobs)) == 90
    assert len(offsets) > 20  # not all at :00
    first = next_slot_at("p0", 3600.0, fleet_scale.START.timestamp())
    assert [s for n, s in jobs if n == "p0"][0].startswith(
        fleet_scale.START.fromtimestamp(first, fleet_scale.START.tzinfo).isoformat()[:19])
    store.close()


def test_a_paused_portfolio_is_not_queued_and_resumes_at_its_next_slot(fleet_url, tmp_path):
    store = FleetStore.open(fleet_url)
    store.set_clock(fleet_scale.START, speed=0.0)
    store.add_many([("a", "x", tmp_path, 3600.0), ("b", "x", tmp_path, 3600.0)])
    store.pause("a")
    store.set_clock(fleet_scale.START + timedelta(hours=5), speed=0.0)
    store.dispatch()
    assert {n for n, _ in _jobs(store)} == {"b"}
    resumed = store.resume("a")
    assert resumed.next_slot >= store.now() and not resumed.paused
    with pytest.raises(InputError, match="no portfolio named zed"):
        store.pause("zed")
    store.close()


def _portfolio(tmp_path, name="one"):
    rows = fleet_scale.make_portfolios(tmp_path / "homes", 1)
    return rows[0][2] / "trimtab.toml"


def test_fleet_commands_add_list_pause_resume_remove_and_status(fleet_url, tmp_path):
    config = _portfolio(tmp_path)
    env = {"TRIMTAB_FLEET_DATABASE": fleet_url}
    added = run_cli("fleet", "add", "--name", "alpha", "--config", str(config), "--json", env=env)
    again = run_cli("fleet", "add", "--name", "alpha", "--config", str(config), env=env)
    listed = json.loads(run_cli("fleet", "list", "--json", env=env).stdout)
    paused = json.loads(run_cli("fleet", "pause", "alpha", "--json", env=env).stdout)
    resumed = json.loads(run_cli("fleet", "resume", "alpha", "--json", env=env).stdout)
    status = json.loads(run_cli("fleet", "status", "--json", env=env).stdout)
    text = run_cli("fleet", "status", env=env).stdout
    removed = run_cli("fleet", "remove", "alpha", "--json", env=env)
    gone = run_cli("fleet", "remove", "alpha", "--json", env=env)
    assert added.returncode == 0, added.stderr
    assert json.loads(added.stdout)["added"]["every_seconds"] == 3600
    assert again.returncode == 2 and "already has a portfolio named alpha" in again.stderr
    assert [p["name"] for p in listed["portfolios"]] == ["alpha"]
    assert paused["paused"]["paused"] is True and resumed["resumed"]["paused"] is False
    assert status["portfolios"] == 1 and set(status) >= {"due", "running", "late", "failed", "needs_attention"}
    assert "needs_attention" in text and "late" in text
    assert removed.returncode == 0 and json.loads(removed.stdout) == {"removed": "alpha"}
    assert gone.returncode == 2 and json.loads(gone.stdout)["error"]["message"].startswith("The fleet has no portfolio")


def test_fleet_import_adds_each_folder_once(fleet_url, tmp_path):
    fleet_scale.make_portfolios(tmp_path / "many", 3)
    env = {"TRIMTAB_FLEET_DATABASE": fleet_url}
    first = json.loads(run_cli("fleet", "import", str(tmp_path / "many"), "--json", env=env).stdout)
    second = json.loads(run_cli("fleet", "import", str(tmp_path / "many"), "--json", env=env).stdout)
    assert first == {"added": ["p00000", "p00001", "p00002"], "skipped": []}
    assert second == {"added": [], "skipped": ["p00000", "p00001", "p00002"]}


def test_fleet_stores_no_secret_and_needs_a_database(fleet_url, tmp_path):
    config = _portfolio(tmp_path)
    config.write_text(config.read_text().replace("urls = []", 'urls = ["tgram://123456:SECRETTOKEN/42"]', 1))
    refused = run_cli("fleet", "add", "--name", "beta", "--config", str(config), "--json",
                      env={"TRIMTAB_FLEET_DATABASE": fleet_url})
    nowhere = run_cli("fleet", "list", env={"TRIMTAB_FLEET_DATABASE": ""})
    sqlite = run_cli("fleet", "list", "--database", f"sqlite:///{tmp_path / 'x.db'}")
    assert refused.returncode == 2 and "stores no secret" in json.loads(refused.stdout)["error"]["message"]
    assert "SECRETTOKEN" not in refused.stdout + refused.stderr
    assert nowhere.returncode == 2 and "--database" in nowhere.stderr
    assert sqlite.returncode == 2 and "lives in PostgreSQL" in sqlite.stderr


def test_two_workers_check_every_slot_once_through_a_kill_in_the_middle_of_a_run(fleet_url, tmp_path):
    # Arrange / Act: 200 portfolios, 2 simulated hours at 360x, the worker driving a run is SIGKILLed
    result = fleet_scale.run_scale(fleet_url, tmp_path, portfolios=200, workers=2, sim_hours=2, speed=360,
                                   kill_mid_run=True, order_latency=0.05, say=lambda *_: None)
    audit = result["audit"]
    # Assert
    assert result["killed_mid_run"] and result["kills"] == 1
    assert audit["slots"] >= 400 and audit["checked_exactly_once"] == audit["slots"], audit
    assert audit["checks_outside_slots"] == 0
    assert audit["orders"] > 0 and audit["duplicate_orders"] == 0 and audit["orders"] == audit["order_legs_in_journal"]
    assert audit["unfinished_runs"] == 0 and audit["slots_retried_after_a_worker_died"] >= 1


def test_a_slot_run_twice_is_checked_once_and_the_dashboard_shows_fleet_states(fleet_url, tmp_path):
    import httpx
    from dashboard_helpers import running

    from trimtab.fleet.worker import SlotRunner
    from trimtab.interfaces.web.app import create_app
    from trimtab.journal import Journal

    # Arrange: two portfolios (p00000 starts all in USDC: its first check rebalances), one paused
    store = FleetStore.open(fleet_url)
    store.set_clock(fleet_scale.START, speed=0.0)
    store.add_many(fleet_scale.make_portfolios(tmp_path / "homes", 2))
    store.pause("p00001")
    slot = store.get("p00000").next_slot
    store.set_clock(slot, speed=0.0)
    runner = SlotRunner(store, "test")
    # Act: the slot's job runs, then runs again (as after a worker died before finishing it)
    first, second = runner("p00000", slot.isoformat()), runner("p00000", slot.isoformat())
    skipped = runner("p00001", slot.isoformat())
    with running(create_app(Journal(store.engine))) as base:
        rows = {r["portfolio"]: r for r in httpx.get(f"{base}/api/portfolios").json()}
        page = httpx.get(f"{base}/").text
    # Assert
    assert (first, second, skipped) == ("rebalanced", "already_checked", "paused")
    with store.engine.connect() as c:
        assert c.exec_driver_sql("SELECT count(*) FROM checks WHERE portfolio = 'p00000'").scalar() == 1
        assert c.exec_driver_sql("SELECT count(*) FROM runs WHERE portfolio = 'p00000'").scalar() == 1
    assert rows["p00000"]["fleet"]["last_outcome"] == "already_checked"
    assert rows["p00000"]["fleet"]["paused"] is False
    assert "fleet" in page and "last already_checked" in page
    store.close()
