/* CrowdLens dashboard: login, live snapshots over SSE, historical ranges over REST. */
(function () {
  'use strict';
  const $ = (id) => document.getElementById(id);
  const RANGES = { '6h': [6 * 3600e3, 'minute'], '24h': [24 * 3600e3, 'hour'], '7d': [7 * 86400e3, 'hour'] };
  const COLORS = { female: '#e8618c', male: '#4a90e2', unknown: '#8c97ad' };
  let timeline, split, source, knownScope = '';
  const state = { range: 'live', camera: '', group: '', scope: [], role: null };

  function fmt(n) { return n == null ? '–' : Number(n).toLocaleString(); }
  function pct(x) { return x == null ? 'no decided visitors yet' : `${(x * 100).toFixed(0)}% of decided`; }
  function esc(s) { return String(s).replace(/[&<>"']/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[ch]); }
  function label(ts, bucketMs) {
    const d = new Date(ts);
    return bucketMs >= 86400e3 ? d.toLocaleDateString() : bucketMs >= 3600e3 ? d.toLocaleString([], { month: 'short', day: 'numeric', hour: '2-digit' }) : d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
  }

  function initCharts() {
    Chart.defaults.color = '#8c97ad';
    Chart.defaults.borderColor = '#263047';
    timeline = new Chart($('timeline'), {
      type: 'bar',
      data: { labels: [], datasets: ['female', 'male', 'unknown'].map((g) => ({ label: g, data: [], backgroundColor: COLORS[g], stack: 'v' })) },
      options: { animation: false, maintainAspectRatio: false, scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true, ticks: { precision: 0 } } }, plugins: { legend: { position: 'bottom' } } },
    });
    split = new Chart($('split'), {
      type: 'doughnut',
      data: { labels: ['female', 'male', 'unknown'], datasets: [{ data: [0, 0, 0], backgroundColor: [COLORS.female, COLORS.male, COLORS.unknown], borderWidth: 0 }] },
      options: { animation: false, maintainAspectRatio: false, plugins: { legend: { position: 'bottom' } } },
    });
  }

  /** Cameras the current filters select (null = all). */
  function selectedCameras() {
    if (state.camera) return [state.camera];
    if (state.group) return state.scope.filter((c) => c.group === state.group).map((c) => c.cameraId);
    return null;
  }

  /** Sums rows per bucket across the selected cameras and fills empty buckets so the axis is continuous. */
  function bucketise(stats) {
    const cams = selectedCameras();
    const byStart = new Map();
    let suppressed = 0;
    for (const r of stats.series) {
      if (cams && !cams.includes(r.cameraId)) continue;
      if (r.suppressed) { suppressed++; continue; }
      const row = byStart.get(r.bucketStart) || { female: 0, male: 0, unknown: 0, faces: 0, visitors: 0 };
      row.female += r.female; row.male += r.male; row.unknown += r.unknown; row.faces += r.faces; row.visitors += r.visitors;
      byStart.set(r.bucketStart, row);
    }
    const first = Math.floor(stats.from / stats.bucketMs) * stats.bucketMs;
    const out = [];
    for (let t = first; t < stats.to; t += stats.bucketMs) out.push([t, byStart.get(t) || { female: 0, male: 0, unknown: 0, faces: 0, visitors: 0 }]);
    return { buckets: out, suppressed };
  }

  function render(stats) {
    const { buckets, suppressed } = bucketise(stats);
    const totals = buckets.reduce((a, [, r]) => ({ female: a.female + r.female, male: a.male + r.male, unknown: a.unknown + r.unknown, faces: a.faces + r.faces, visitors: a.visitors + r.visitors }), { female: 0, male: 0, unknown: 0, faces: 0, visitors: 0 });
    const decided = totals.male + totals.female;
    $('kpi-visitors').textContent = fmt(totals.visitors);
    $('kpi-female').textContent = fmt(totals.female);
    $('kpi-male').textContent = fmt(totals.male);
    $('kpi-unknown').textContent = fmt(totals.unknown);
    $('kpi-faces').textContent = fmt(totals.faces);
    $('kpi-female-share').textContent = pct(decided ? totals.female / decided : null);
    $('kpi-male-share').textContent = pct(decided ? totals.male / decided : null);
    timeline.data.labels = buckets.map(([t]) => label(t, stats.bucketMs));
    ['female', 'male', 'unknown'].forEach((g, i) => { timeline.data.datasets[i].data = buckets.map(([, r]) => r[g]); });
    timeline.update();
    split.data.datasets[0].data = [totals.female, totals.male, totals.unknown];
    split.update();
    $('k').textContent = stats.kAnonymity;
    $('suppressed-note').textContent = suppressed ? `${suppressed} bucket(s) suppressed: fewer than ${stats.kAnonymity} people` : '';
    $('range-label').textContent = `· ${new Date(stats.from).toLocaleString()} – ${new Date(stats.to).toLocaleString()} · per ${stats.bucket}`;
  }

  function renderScope(scope) {
    const key = JSON.stringify(scope);
    if (key === knownScope) return;
    knownScope = key;
    state.scope = scope;
    const groups = [...new Set(scope.map((c) => c.group).filter(Boolean))].sort();
    fill($('group-filter'), '<option value="">All stores</option>' + groups.map((g) => `<option value="${esc(g)}">${esc(g)}</option>`).join(''));
    fill($('camera-filter'), '<option value="">All cameras</option>' + scope.map((c) => `<option value="${esc(c.cameraId)}">${esc(c.name)}</option>`).join(''));
  }
  function fill(sel, html) { const keep = sel.value; sel.innerHTML = html; sel.value = keep; }

  function renderCameras(cameras) {
    if (!['operator', 'admin'].includes(state.role)) {
      $('cameras').innerHTML = '';
      $('cameras-note').textContent = '· camera health needs the operator role';
      return;
    }
    $('cameras-note').textContent = '';
    $('cameras').innerHTML = cameras.map((c) => `
      <div class="tile" data-camera="${esc(c.cameraId)}">
        <div class="tile-head"><div><div class="tile-name">${esc(c.name || c.cameraId)}</div><div class="tile-id">${esc(c.cameraId)}${c.group ? ' · ' + esc(c.group) : ''}</div></div>
        <span class="pill state-${esc(c.state)}" data-testid="camera-state">${esc(c.state)}</span></div>
        <div class="tile-stats"><div><b>${c.fps.toFixed(1)}</b>fps analysed</div><div><b>${fmt(c.facesDetected)}</b>faces</div><div><b>${fmt(c.tracks)}</b>tracks</div>
        <div><b>${fmt(c.framesAnalysed)}</b>frames</div><div><b>${fmt(c.framesDropped)}</b>dropped</div><div><b>${fmt(c.reconnects)}</b>reconnects</div></div>
        ${c.lastError ? `<div class="tile-error">${esc(c.lastError)}</div>` : ''}
      </div>`).join('') || '<div class="muted">No cameras configured.</div>';
  }

  function setConn(text, cls) { const el = $('conn'); el.textContent = text; el.className = `pill ${cls}`; }

  /** Query string for the current range and filters (REST and CSV share it). */
  function rangeQuery() {
    const [span, bucket] = state.range === 'live' ? [3600e3, 'minute'] : RANGES[state.range];
    const to = Math.ceil((Date.now() + 1) / 60e3) * 60e3;
    const q = new URLSearchParams({ from: String(to - span), to: String(to), bucket });
    if (state.camera) q.set('camera', state.camera);
    else if (state.group) q.set('group', state.group);
    return q;
  }
  function updateCsvLink() { $('csv').href = `/api/stats/csv?${rangeQuery()}`; }

  function connectLive() {
    if (source) source.close();
    source = new EventSource('/api/live');
    source.addEventListener('snapshot', (ev) => {
      const snap = JSON.parse(ev.data);
      setConn('live', 'pill-ok');
      renderScope(snap.scope);
      renderCameras(snap.cameras);
      if (state.range === 'live') render(snap.lastHour);
    });
    source.onerror = async () => {
      setConn('reconnecting…', 'pill-bad');
      const me = await fetch('/api/auth/me');
      if (me.status === 401) { source.close(); showLogin(); }
    };
  }

  async function loadRange() {
    updateCsvLink();
    if (state.range === 'live') return;
    const res = await fetch(`/api/stats?${rangeQuery()}`);
    if (res.status === 401) return showLogin();
    if (res.ok) render(await res.json());
  }

  function showLogin(message) {
    $('login').hidden = false;
    $('login-error').textContent = message || '';
    $('login-user').focus();
  }

  async function start() {
    const res = await fetch('/api/auth/me');
    if (res.status === 401) return showLogin();
    const me = await res.json();
    state.role = me.principal.role;
    $('user').textContent = me.authEnabled ? `${me.principal.name} · ${me.principal.role}` : 'auth off (demo)';
    $('logout').hidden = !me.authEnabled;
    $('login').hidden = true;
    connectLive();
    loadRange();
  }

  document.addEventListener('DOMContentLoaded', () => {
    initCharts();
    $('range').addEventListener('change', (e) => { state.range = e.target.value; loadRange(); });
    $('camera-filter').addEventListener('change', (e) => { state.camera = e.target.value; loadRange(); });
    $('group-filter').addEventListener('change', (e) => { state.group = e.target.value; state.camera = ''; $('camera-filter').value = ''; loadRange(); });
    $('login-form').addEventListener('submit', async (e) => {
      e.preventDefault();
      const res = await fetch('/api/auth/login', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ username: $('login-user').value, password: $('login-pass').value }) });
      if (!res.ok) return showLogin(res.status === 429 ? 'Too many attempts; wait a moment.' : 'Unknown user or wrong password.');
      start();
    });
    $('logout').addEventListener('click', async () => { await fetch('/api/auth/logout', { method: 'POST' }); if (source) source.close(); showLogin(); });
    setInterval(loadRange, 30e3);
    start();
  });
})();
