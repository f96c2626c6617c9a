// trimtab dashboard: small helpers shared by the pages (plain fetch, no framework).
"use strict";
const trimtab = (() => {
  const poll = () => 1000 * parseFloat(document.body.dataset.poll || "5");
  const enc = encodeURIComponent;
  const pct = (x, d = 2) => (x === null || x === undefined) ? "-" : (x * 100).toFixed(d) + "%";
  const money = (x, d = 2) => (x === null || x === undefined) ? "-" :
    x.toLocaleString("en-US", {minimumFractionDigits: d, maximumFractionDigits: d});
  async function getJSON(url) {
    const r = await fetch(url, {credentials: "same-origin"});
    if (!r.ok) throw new Error(url + ": " + r.status);
    return r.json();
  }
  async function postJSON(url, body) {
    const r = await fetch(url, {method: "POST", credentials: "same-origin",
      headers: {"Content-Type": "application/json"}, body: JSON.stringify(body || {})});
    return {status: r.status, body: await r.json()};
  }
  function every(fn) {  // poll, never overlapping, never faster than the page asked
    const tick = async () => { try { await fn(); } catch (e) { console.warn(e); } setTimeout(tick, poll()); };
    setTimeout(tick, poll());
  }
  function age(seconds) {
    if (seconds === null || seconds === undefined) return "never";
    for (const [unit, size] of [["d", 86400], ["h", 3600], ["min", 60]])
      if (seconds >= size) return Math.round(seconds / size) + " " + unit + " ago";
    return Math.round(seconds) + " s ago";
  }
  function setText(id, text) { const el = document.getElementById(id); if (el) el.textContent = text; }

  // Follow new checks of one portfolio: calls onChecks(checks, doc) for every batch.
  function followChecks(name, lastId, onChecks) {
    let after = lastId || 0;
    every(async () => {
      const doc = await getJSON(`/api/portfolios/${enc(name)}/checks?after=${after}`);
      if (doc.checks.length) {
        after = doc.last_check_id;
        const last = doc.checks[doc.checks.length - 1];
        setText("last-check-at", last.at.slice(0, 19));
        setText("last-check-drift", pct(last.max_drift));
        setText("value", money(last.total_value));
      }
      onChecks && onChecks(doc.checks, doc);
      if (doc.checks.length && document.getElementById("twr")) {  // the portfolio page's return card
        const r = await getJSON(`/api/portfolios/${enc(name)}/returns`);
        setText("twr", pct(r ? r.time_weighted_return : null));
        if (r) setText("net-flows", "net flows " + money(r.net_flows));
      }
    });
  }

  function followPortfolio(name, lastId) { followChecks(name, lastId, null); }

  function followPortfolios() {
    every(async () => {
      const rows = await getJSON("/api/portfolios");
      for (const r of rows) {
        const tr = document.querySelector(`tr[data-portfolio="${CSS.escape(r.portfolio)}"]`);
        if (!tr) { location.reload(); return; }  // a new portfolio appeared in the journal
        tr.children[1].textContent = money(r.value);
        tr.children[2].textContent = pct(r.returns ? r.returns.time_weighted_return : null);
        tr.children[3].textContent = pct(r.max_drift);
        tr.children[4].textContent = age(r.last_check_age_seconds);
        tr.classList.toggle("attention", r.needs_attention > 0);
      }
    });
  }

  function followRuns(name, newest) {
    let seen = newest;
    every(async () => {
      const doc = await getJSON(`/api/portfolios/${enc(name)}/checks?after=999999999999`);
      const now = doc.last_run ? doc.last_run.id + ":" + doc.last_run.state : "";
      if (now === seen) return;
      seen = now;
      const runs = await getJSON(`/api/portfolios/${enc(name)}/runs`);
      const body = document.querySelector("#runs tbody");
      body.innerHTML = "";
      for (const r of runs) {
        const tr = document.createElement("tr");
        tr.id = "run-" + r.id; tr.dataset.run = r.id; tr.dataset.fees = r.fees;
        if (r.state === "needs_attention") tr.className = "attention";
        const cells = [null, (r.created_at || "").slice(0, 19), r.trigger, null, r.legs, r.bridges, money(r.traded),
          money(r.fees, 4), money(r.slippage, 4), money(r.value_before), money(r.value_after), r.reason];
        cells.forEach((c, i) => {
          const td = document.createElement("td");
          if (i === 0) { const a = document.createElement("a"); a.href = "/runs/" + r.id; a.textContent = r.id; td.append(a); }
          else if (i === 3) { const s = document.createElement("span"); s.className = "state state-" + r.state; s.textContent = r.state; td.append(s); }
          else td.textContent = c;
          if (i >= 4 && i <= 10) td.className = "num";
          tr.append(td);
        });
        body.append(tr);
      }
      setText("run-count", String(runs.length));
    });
  }

  async function planNow(name) {
    const out = document.getElementById("plan-result");
    out.textContent = "planning…";
    const r = await postJSON(`/api/portfolios/${enc(name)}/plans`);
    if (r.status !== 200) { out.textContent = r.body.error; return; }
    const p = r.body.plan;
    out.innerHTML = "";
    const legs = p.legs.map(l => `${l.side} ${l.quantity} ${l.asset}`).join(", ") || "no legs";
    const text = document.createElement("p");
    text.textContent = `Plan ${p.plan_id}: ${legs}; turnover ${money(p.turnover)}, fees ${money(p.fees)}; ` +
      `executable until ${p.expires_at.slice(0, 19)} UTC.` + (p.requires_approval ? " It needs `trimtab approve " + p.plan_id + "` first." : "");
    out.append(text);
    if (!p.legs.length) return;
    const go = document.createElement("button");
    go.textContent = "Execute plan " + p.plan_id;
    go.onclick = async () => {
      go.disabled = true;
      const e = await postJSON(`/api/portfolios/${enc(name)}/plans/${p.plan_id}/execute`);
      const done = document.createElement("p");
      if (e.status === 200) {
        done.innerHTML = "";
        const a = document.createElement("a"); a.href = "/runs/" + e.body.run; a.textContent = "run " + e.body.run;
        done.append(a, document.createTextNode(`: ${e.body.state}, fees ${money(e.body.fees)}`));
      } else done.textContent = e.body.error;
      out.append(done);
    };
    out.append(go);
  }

  return {getJSON, postJSON, every, followChecks, followPortfolio, followPortfolios, followRuns, planNow, pct, money};
})();
