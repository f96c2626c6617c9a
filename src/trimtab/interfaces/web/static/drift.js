// The drift page: uPlot over the server's min/max-downsampled series, band lines, rebalance markers
// (HTML triangles over the plot, each a link to its run), zoom that fetches detail, live points.
"use strict";
function driftPage(name, initialWindow) {
  const enc = encodeURIComponent;
  const el = document.getElementById("drift-chart");
  const status = document.getElementById("drift-status");
  const palette = ["#f7931a", "#627eea", "#2775ca", "#16a34a", "#9333ea", "#dc2626", "#0891b2", "#ca8a04"];
  let doc = null, chart = null, windowName = initialWindow, zoomed = false, lastId = 0, loading = false;
  const markerLayer = document.createElement("div");
  markerLayer.className = "markers";

  function toData(d) {
    return [d.t, d.max_drift, ...Object.keys(d.assets).map(a => d.assets[a])];
  }

  function drawBands(u) {
    if (!doc) return;
    const ctx = u.ctx, {left, top, width, height} = u.bbox;
    const lines = [];
    if (doc.band) lines.push([doc.band, "rgba(220,38,38,0.55)", [6, 4]], [-doc.band, "rgba(220,38,38,0.55)", [6, 4]]);
    if (doc.emergency_band) lines.push([doc.emergency_band, "rgba(127,29,29,0.8)", [2, 3]], [-doc.emergency_band, "rgba(127,29,29,0.8)", [2, 3]]);
    ctx.save();
    ctx.beginPath(); ctx.rect(left, top, width, height); ctx.clip();
    for (const [v, color, dash] of lines) {
      const y = u.valToPos(v, "y", true);
      ctx.strokeStyle = color; ctx.setLineDash(dash); ctx.lineWidth = 1.5 * devicePixelRatio;
      ctx.beginPath(); ctx.moveTo(left, y); ctx.lineTo(left + width, y); ctx.stroke();
    }
    ctx.setLineDash([4, 4]); ctx.strokeStyle = "rgba(100,116,139,0.35)"; ctx.lineWidth = devicePixelRatio;
    for (const m of doc.rebalances) {
      const x = u.valToPos(m.t, "x", true);
      if (x < left || x > left + width) continue;
      ctx.beginPath(); ctx.moveTo(x, top); ctx.lineTo(x, top + height); ctx.stroke();
    }
    ctx.restore();
  }

  function placeMarkers(u) {
    markerLayer.innerHTML = "";
    if (!doc) return;
    const [xmin, xmax] = [u.scales.x.min, u.scales.x.max];
    for (const m of doc.rebalances) {
      if (m.t < xmin || m.t > xmax) continue;
      const a = document.createElement("a");
      a.className = "marker trigger-" + m.trigger + " state-" + m.state;
      a.href = "/runs/" + m.run;
      a.dataset.run = m.run;
      a.title = `${m.at.slice(0, 16)} · ${m.trigger} · run ${m.run} (${m.state})`;
      a.style.left = (u.bbox.left / devicePixelRatio + u.valToPos(m.t, "x")) + "px";
      a.style.top = (u.bbox.top / devicePixelRatio - 2) + "px";
      markerLayer.append(a);
    }
  }

  function build(d) {
    const assets = Object.keys(d.assets);
    const opts = {
      width: Math.max(400, el.clientWidth), height: 420,
      scales: {x: {time: true}, y: {auto: true, range: (u, lo, hi) => {
        const m = Math.max(Math.abs(lo), Math.abs(hi), (d.emergency_band || d.band || 0.05) * 1.1);
        return [-m, m];
      }}},
      axes: [{}, {values: (u, ticks) => ticks.map(v => (v * 100).toFixed(1) + "%"), size: 60}],
      series: [{},
        {label: "max drift", stroke: "#111827", width: 2, value: (u, v) => v == null ? "-" : (v * 100).toFixed(2) + "%"},
        ...assets.map((a, i) => ({label: a + " drift", stroke: palette[i % palette.length], width: 1,
          value: (u, v) => v == null ? "-" : (v * 100).toFixed(2) + "%"}))],
      cursor: {drag: {x: true, y: false}, bind: {dblclick: () => () => { loadWindow(windowName); return null; }}},
      hooks: {draw: [drawBands, placeMarkers], setScale: [onScale]},
    };
    if (chart) chart.destroy();
    chart = new uPlot(opts, toData(d), el);
    chart.over.parentNode.append(markerLayer);
    window.driftChart = chart;
  }

  let scaleTimer = null;
  function onScale(u, key) {
    if (key !== "x" || loading || !doc) return;
    const span = u.scales.x.max - u.scales.x.min;
    if (span >= (doc.end - doc.start) * 0.98) return;
    zoomed = true;
    clearTimeout(scaleTimer);
    scaleTimer = setTimeout(() => loadRange(u.scales.x.min, u.scales.x.max), 150);
  }

  function describe(d) {
    status.textContent = `${d.points_in_window.toLocaleString()} checks in view, ${d.points_sent.toLocaleString()} points sent` +
      (d.downsampled ? " (min/max per pixel)" : "") + ` · ${d.rebalances.length} rebalances` +
      (d.band ? ` · band ±${(d.band * 100).toFixed(2)}%` : "") +
      (d.emergency_band ? `, emergency ±${(d.emergency_band * 100).toFixed(2)}%` : "");
    el.dataset.points = String(d.points_sent);
    el.dataset.rebalances = String(d.rebalances.length);
  }

  async function loadWindow(w) {
    windowName = w; zoomed = false; loading = true;
    document.querySelectorAll("button.window").forEach(b => b.classList.toggle("active", b.dataset.window === w));
    const width = Math.max(400, el.clientWidth);
    doc = await trimtab.getJSON(`/api/portfolios/${enc(name)}/drift?window=${w}&width=${width}`);
    lastId = Math.max(lastId, doc.last_check_id);
    build(doc);
    describe(doc);
    loading = false;
  }

  async function loadRange(lo, hi) {
    loading = true;
    const width = Math.max(400, el.clientWidth);
    const start = new Date(lo * 1000).toISOString(), end = new Date(hi * 1000).toISOString();
    const d = await trimtab.getJSON(`/api/portfolios/${enc(name)}/drift?start=${enc(start)}&end=${enc(end)}&width=${width}`);
    doc = Object.assign({}, d, {start: doc.start, end: doc.end});
    chart.setData(toData(d), false);
    chart.setScale("x", {min: lo, max: hi});
    describe(d);
    loading = false;
  }

  document.querySelectorAll("button.window").forEach(b => b.addEventListener("click", () => loadWindow(b.dataset.window)));
  window.addEventListener("resize", () => chart && chart.setSize({width: Math.max(400, el.clientWidth), height: 420}));

  loadWindow(windowName).then(() => {
    trimtab.followChecks(name, lastId, (checks, live) => {
      if (!chart || !doc) return;
      const newRun = live.last_run && !doc.rebalances.some(m => m.run === live.last_run.id);
      if (newRun && !zoomed) { loadWindow(windowName); return; }
      if (!checks.length || zoomed) return;
      const data = chart.data.map(s => Array.from(s));
      const assets = Object.keys(doc.assets);
      for (const c of checks) {
        const t = Math.floor(Date.parse(c.at) / 1000);
        data[0].push(t); data[1].push(c.max_drift);
        assets.forEach((a, i) => data[2 + i].push(a in c.drift ? c.drift[a] : null));
      }
      doc.end = data[0][data[0].length - 1];
      doc.points_in_window += checks.length; doc.points_sent += checks.length;
      chart.setData(data);
      describe(doc);
    });
  });
}
