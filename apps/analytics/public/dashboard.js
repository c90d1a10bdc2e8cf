/* CrowdLens dashboard: login, live snapshots over SSE, historical ranges over REST. */
(function () {
  'use strict';
  const $ = (id) => document.getElementById(id);
  const RANGES = {
    '6h': [6 * 3600e3, 'minute'],
    '24h': [24 * 3600e3, 'hour'],
    '7d': [7 * 86400e3, 'hour'],
    // Past analytics.minuteRetentionDays only hour and day counts are kept: day buckets read those.
    '30d': [30 * 86400e3, 'day'],
    '365d': [365 * 86400e3, 'day'],
  };
  const COLORS = { female: '#e8618c', male: '#4a90e2', unknown: '#8c97ad', suppressed: '#f0a020' };
  let timeline,
    split,
    storesChart,
    source,
    lastHour,
    lastHourStores,
    shownStores,
    knownScope = '';
  const state = { range: 'live', camera: '', group: '', scope: [], role: null, k: 'k', loggedIn: false };
  // The Stores table's sort (a click on a header) and what its chart plots.
  const storesView = { sort: 'visitors', desc: true, metric: 'count' };

  function fmt(n) {
    return n == null ? '–' : Number(n).toLocaleString();
  }
  /** A gender's share of the decided visitors, saying how many were decided: "67% of the 12% decided". */
  function pct(x, coverage) {
    return x == null ? 'no decided visitors yet' : `${(x * 100).toFixed(0)}% of the ${share(coverage)} decided`;
  }
  function esc(s) {
    return String(s).replace(
      /[&<>"']/g,
      (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[ch],
    );
  }
  /** A share of visitors as a whole percentage: "67%". */
  function share(x) {
    return x == null ? '–' : `${Math.round(x * 100)}%`;
  }
  /** Mean dwell: "0.4 s", "44 s", "3 min 20 s". */
  function dwell(ms) {
    if (ms == null) return '–';
    if (ms < 9950) return `${(ms / 1000).toFixed(1)} s`;
    const s = Math.round(ms / 1000);
    return s < 60 ? `${s} s` : `${Math.floor(s / 60)} min ${s % 60} s`;
  }
  function label(ts, bucketMs) {
    const d = new Date(ts);
    return bucketMs >= 86400e3
      ? d.toLocaleDateString()
      : bucketMs >= 3600e3
        ? d.toLocaleString([], { month: 'short', day: 'numeric', hour: '2-digit' })
        : d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
  }

  /** "Nov 23, 10:16 – 11:16" or across days "Nov 16, 11:00 – Nov 23, 11:00". */
  function span(from, to) {
    const day = { month: 'short', day: 'numeric' };
    const time = { hour: '2-digit', minute: '2-digit' };
    const a = new Date(from),
      b = new Date(to);
    const sameDay = a.toDateString() === b.toDateString();
    return `${a.toLocaleString([], { ...day, ...time })} – ${sameDay ? b.toLocaleTimeString([], time) : b.toLocaleString([], { ...day, ...time })}`;
  }

  function initCharts() {
    if (typeof Chart === 'undefined') {
      // Without the chart library the numbers, tiles and CSV still work; say so instead of dying.
      document.querySelectorAll('.chart-box').forEach((box) => {
        box.innerHTML =
          '<div class="chart-missing">Chart library unavailable (/assets/chart.umd.js did not load).</div>';
      });
      return;
    }
    Chart.defaults.color = '#8c97ad';
    Chart.defaults.borderColor = '#263047';
    /** Female / male / unknown stacked bars, plus a marker dataset: suppressed points get a marker on the axis, never a number. */
    const genderBars = (bar, markerRadius) => [
      ...['female', 'male', 'unknown'].map((g) => ({
        label: g,
        data: [],
        backgroundColor: COLORS[g],
        stack: 'v',
        borderRadius: 2,
        ...bar,
      })),
      {
        type: 'line',
        label: 'suppressed (< k people)',
        data: [],
        stack: 's',
        showLine: false,
        pointStyle: 'rectRot',
        pointRadius: markerRadius,
        pointHoverRadius: markerRadius + 1,
        backgroundColor: COLORS.suppressed,
        borderColor: COLORS.suppressed,
      },
    ];
    const stackedOptions = (xTicks, label) => ({
      animation: false,
      maintainAspectRatio: false,
      interaction: { mode: 'index', intersect: false },
      scales: {
        x: { stacked: true, grid: { display: false }, ...(xTicks ? { ticks: xTicks } : {}) },
        y: { stacked: true, beginAtZero: true, ticks: { precision: 0 }, title: { display: true, text: 'visitors' } },
      },
      plugins: {
        legend: { position: 'bottom', labels: { usePointStyle: true } },
        tooltip: { callbacks: { label }, filter: (item) => item.raw !== null },
      },
    });
    timeline = new Chart($('timeline'), {
      type: 'bar',
      data: { labels: [], datasets: genderBars({}, 5) },
      options: stackedOptions({ autoSkip: true, maxRotation: 0, maxTicksLimit: 12 }, (ctx) =>
        ctx.dataset.stack === 's'
          ? ctx.raw === null
            ? null
            : `suppressed: fewer than ${state.k} people`
          : `${ctx.dataset.label}: ${fmt(ctx.raw)}`,
      ),
    });
    storesChart = new Chart($('stores-chart'), {
      type: 'bar',
      data: { labels: [], datasets: genderBars({ maxBarThickness: 56 }, 6) },
      options: stackedOptions(null, (ctx) =>
        ctx.dataset.stack === 's'
          ? `suppressed: fewer than ${shownStores ? shownStores.kAnonymity : state.k} people`
          : storesView.metric === 'share'
            ? `${ctx.dataset.label}: ${ctx.raw.toFixed(0)}% of visitors`
            : `${ctx.dataset.label}: ${fmt(ctx.raw)}`,
      ),
    });
    split = new Chart($('split'), {
      type: 'doughnut',
      data: {
        labels: ['female', 'male', 'unknown'],
        datasets: [{ data: [0, 0, 0], backgroundColor: [COLORS.female, COLORS.male, COLORS.unknown], borderWidth: 0 }],
      },
      options: {
        animation: false,
        maintainAspectRatio: false,
        cutout: '62%',
        plugins: { legend: { position: 'bottom', labels: { usePointStyle: true } } },
      },
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
    const hidden = new Set();
    let suppressed = 0;
    for (const r of stats.series) {
      if (cams && !cams.includes(r.cameraId)) continue;
      if (r.suppressed) {
        suppressed++;
        hidden.add(r.bucketStart);
        continue;
      }
      const row = byStart.get(r.bucketStart) || { female: 0, male: 0, unknown: 0, faces: 0, visitors: 0 };
      row.female += r.female;
      row.male += r.male;
      row.unknown += r.unknown;
      row.faces += r.faces;
      row.visitors += r.visitors;
      byStart.set(r.bucketStart, row);
    }
    const first = Math.floor(stats.from / stats.bucketMs) * stats.bucketMs;
    const out = [];
    for (let t = first; t < stats.to; t += stats.bucketMs)
      out.push([t, byStart.get(t) || { female: 0, male: 0, unknown: 0, faces: 0, visitors: 0 }, hidden.has(t)]);
    return { buckets: out, suppressed };
  }

  function render(stats) {
    const { buckets, suppressed } = bucketise(stats);
    const totals = buckets.reduce(
      (a, [, r]) => ({
        female: a.female + r.female,
        male: a.male + r.male,
        unknown: a.unknown + r.unknown,
        faces: a.faces + r.faces,
        visitors: a.visitors + r.visitors,
      }),
      { female: 0, male: 0, unknown: 0, faces: 0, visitors: 0 },
    );
    const decided = totals.male + totals.female;
    $('kpi-visitors').textContent = fmt(totals.visitors);
    $('kpi-female').textContent = fmt(totals.female);
    $('kpi-male').textContent = fmt(totals.male);
    $('kpi-unknown').textContent = fmt(totals.unknown);
    $('kpi-faces').textContent = fmt(totals.faces);
    // Coverage beside the shares: 60 % female of 10 % decided is not 60 % of everyone.
    const coverage = totals.visitors ? decided / totals.visitors : null;
    $('kpi-female-share').textContent = pct(decided ? totals.female / decided : null, coverage);
    $('kpi-male-share').textContent = pct(decided ? totals.male / decided : null, coverage);
    $('kpi-coverage').textContent = share(coverage);
    $('kpi-coverage-note').textContent =
      coverage == null ? 'visitors with a decided gender' : `shares are of the ${share(coverage)} decided`;
    state.k = stats.kAnonymity;
    if (timeline) {
      timeline.data.labels = buckets.map(([t]) => label(t, stats.bucketMs));
      ['female', 'male', 'unknown'].forEach((g, i) => {
        timeline.data.datasets[i].data = buckets.map(([, r]) => r[g]);
      });
      timeline.data.datasets[3].data = buckets.map(([, , hidden]) => (hidden ? 0 : null));
      timeline.data.datasets[3].label = `suppressed (< ${stats.kAnonymity} people)`;
      timeline.update();
      split.data.datasets[0].data = [totals.female, totals.male, totals.unknown];
      split.update();
    }
    $('k').textContent = stats.kAnonymity;
    $('suppressed-note').textContent = suppressed
      ? `◆ ${suppressed} bucket${suppressed === 1 ? '' : 's'} suppressed: fewer than ${stats.kAnonymity} people, not counted above`
      : '';
    $('range-label').textContent = `· ${span(stats.from, stats.to)} · per ${stats.bucket}`;
  }

  const STORE_SORT = {
    label: (g) => g.label,
    visitors: (g) => g.visitors,
    female: (g) => g.visitorShares && g.visitorShares.female,
    male: (g) => g.visitorShares && g.visitorShares.male,
    unknown: (g) => g.visitorShares && g.visitorShares.unknown,
    coverage: (g) => g.coverage,
    faces: (g) => g.faces,
    dwell: (g) => g.meanDwellMs,
  };
  /** The table's order (the chart follows it); suppressed stores have no number to sort by and go last. */
  function sortStores(rows) {
    const key = STORE_SORT[storesView.sort];
    return [...rows].sort((a, b) => {
      if (a.suppressed !== b.suppressed) return a.suppressed ? 1 : -1;
      const x = key(a),
        y = key(b);
      const c = typeof x === 'string' ? x.localeCompare(y) : (x ?? -1) - (y ?? -1);
      return (storesView.desc ? -c : c) || a.label.localeCompare(b.label);
    });
  }

  /** The Stores panel: one row per camera group over the selected range, whatever the store filter says. */
  function renderStores(result) {
    shownStores = result;
    const note = $('stores-note');
    $('stores-label').textContent = `· ${span(result.from, result.to)} · per ${result.bucket}`;
    if (result.groups.length < 2) {
      // Nothing to compare: say why instead of drawing a one-bar chart.
      $('stores-body').hidden = true;
      note.className = 'muted';
      note.textContent = result.groups.length
        ? `Only one store (${result.groups[0].label}). Give cameras a group in the config to compare stores side by side.`
        : 'No cameras yet: stores appear here once cameras with a group are configured.';
      return;
    }
    $('stores-body').hidden = false;
    const suppressed = result.groups.filter((g) => g.suppressed).length;
    note.className = suppressed ? 'muted warn' : 'muted';
    note.textContent = suppressed
      ? `◆ ${suppressed} store${suppressed === 1 ? '' : 's'} suppressed: fewer than ${result.kAnonymity} people in this range`
      : '';
    const rows = sortStores(result.groups);
    const k = result.kAnonymity;
    $('stores-rows').innerHTML = rows
      .map((g) => {
        const name = `<td class="${g.group === null ? 'ungrouped' : ''}" data-col="store">${esc(g.label)}</td>`;
        const attrs = `data-store="${esc(g.label)}" data-suppressed="${g.suppressed}" class="${g.group !== null && g.group === state.group ? 'selected' : ''}"`;
        if (g.suppressed)
          return `<tr ${attrs}>${name}<td colspan="7" class="suppressed" data-col="suppressed">◆ suppressed: fewer than ${k} people</td></tr>`;
        const s = g.visitorShares;
        return `<tr ${attrs}>${name}
          <td class="num" data-col="visitors">${fmt(g.visitors)}</td>
          <td class="num" data-col="female">${share(s && s.female)}</td>
          <td class="num" data-col="male">${share(s && s.male)}</td>
          <td class="num" data-col="unknown">${share(s && s.unknown)}</td>
          <td class="num" data-col="coverage">${share(g.coverage)}</td>
          <td class="num" data-col="faces">${fmt(g.faces)}</td>
          <td class="num" data-col="dwell">${dwell(g.meanDwellMs)}</td></tr>`;
      })
      .join('');
    document.querySelectorAll('.stores-table th').forEach((th) => {
      if (th.dataset.sort === storesView.sort)
        th.setAttribute('aria-sort', storesView.desc ? 'descending' : 'ascending');
      else th.removeAttribute('aria-sort');
    });
    if (storesChart) {
      const asShare = storesView.metric === 'share';
      storesChart.data.labels = rows.map((g) => g.label);
      ['female', 'male', 'unknown'].forEach((gender, i) => {
        storesChart.data.datasets[i].data = rows.map((g) =>
          g.suppressed ? null : asShare ? g.visitorShares[gender] * 100 : g[gender],
        );
      });
      storesChart.data.datasets[3].data = rows.map((g) => (g.suppressed ? 0 : null));
      storesChart.data.datasets[3].label = `suppressed (< ${k} people)`;
      const y = storesChart.options.scales.y;
      y.max = asShare ? 100 : undefined;
      y.title.text = asShare ? '% of visitors' : 'visitors';
      storesChart.update();
    }
  }
  function clearStores() {
    shownStores = undefined;
    $('stores-rows').innerHTML = '';
    $('stores-note').textContent = '';
    $('stores-label').textContent = '';
    $('stores-body').hidden = true;
    if (storesChart) {
      storesChart.data.labels = [];
      storesChart.data.datasets.forEach((d) => {
        d.data = [];
      });
      storesChart.update();
    }
  }

  function renderScope(scope) {
    const key = JSON.stringify(scope);
    if (key === knownScope) return;
    knownScope = key;
    state.scope = scope;
    const groups = [...new Set(scope.map((c) => c.group).filter(Boolean))].sort();
    fill(
      $('group-filter'),
      '<option value="">All stores</option>' +
        groups.map((g) => `<option value="${esc(g)}">${esc(g)}</option>`).join(''),
    );
    fillCameraFilter();
  }
  /** The camera list follows the store filter. */
  function fillCameraFilter() {
    const cams = state.scope.filter((c) => !state.group || c.group === state.group);
    fill(
      $('camera-filter'),
      '<option value="">All cameras</option>' +
        cams.map((c) => `<option value="${esc(c.cameraId)}">${esc(c.name)}</option>`).join(''),
    );
  }
  function fill(sel, html) {
    const keep = sel.value;
    sel.innerHTML = html;
    sel.value = keep;
  }

  function renderCameras(cameras) {
    if (!['operator', 'admin'].includes(state.role)) {
      $('cameras').innerHTML = '';
      $('cameras-note').textContent = '· camera health needs the operator role';
      return;
    }
    $('cameras-note').textContent = '';
    $('cameras').innerHTML =
      cameras
        .map(
          (c) => `
      <div class="tile" data-camera="${esc(c.cameraId)}">
        <div class="tile-head"><div><div class="tile-name">${esc(c.name || c.cameraId)}</div><div class="tile-id">${esc(c.cameraId)}${c.group ? ' · ' + esc(c.group) : ''}</div></div>
        <span class="pill state-${esc(c.state)}" data-testid="camera-state">${esc(c.state)}</span></div>
        <div class="tile-stats"><div><b>${c.fps.toFixed(1)}</b>fps analysed</div><div><b>${fmt(c.facesDetected)}</b>faces detected</div><div><b>${fmt(c.tracks)}</b>tracks</div>
        <div><b>${fmt(c.framesAnalysed)}</b>frames</div><div title="dropped: detection was behind · still: skipped by the motion gate"><b>${fmt(c.framesDropped)} / ${fmt(c.framesSkipped ?? 0)}</b>dropped / still</div><div><b>${fmt(c.reconnects)}</b>reconnects</div></div>
        ${c.lastError ? `<div class="tile-error">${esc(c.lastError)}</div>` : ''}
      </div>`,
        )
        .join('') || '<div class="muted">No cameras configured.</div>';
  }

  /**
   * Operators and admins see each camera's latest analysed frame (boxes, track ids, lines, zones,
   * faces blurred), one <img> per camera kept across ticks, each reloaded about twice a second once
   * the previous picture arrived: a slow camera or server never piles requests up.
   */
  const liveFrames = new Map();
  function renderLiveView(cameras) {
    const canSee = ['operator', 'admin'].includes(state.role);
    $('live-view').hidden = !canSee || cameras.length === 0;
    const wanted = new Set(canSee ? cameras.map((c) => c.cameraId) : []);
    if (!wanted.size && window.crowdlensGeometryEditor) window.crowdlensGeometryEditor.close();
    for (const [id, entry] of liveFrames) {
      if (wanted.has(id)) continue;
      entry.stopped = true;
      entry.box.remove();
      liveFrames.delete(id);
    }
    for (const id of wanted) {
      if (liveFrames.has(id)) continue;
      const box = document.createElement('div');
      box.className = 'live-frame';
      box.dataset.liveCamera = id;
      const img = document.createElement('img');
      img.alt = `live view of ${id}`;
      img.dataset.testid = 'live-frame';
      const label = document.createElement('div');
      label.className = 'tile-id';
      label.textContent = id;
      box.append(img, label);
      // Admins draw lines and zones on the picture (geometry-editor.js); operators only watch.
      if (state.role === 'admin' && window.crowdlensGeometryEditor) {
        const edit = document.createElement('button');
        edit.type = 'button';
        edit.className = 'link edit-geometry';
        edit.dataset.testid = 'edit-geometry';
        edit.textContent = 'Edit lines & zones';
        edit.addEventListener('click', () => window.crowdlensGeometryEditor.open(id));
        box.append(edit);
      }
      $('live-frames').append(box);
      const entry = { box, img, stopped: false };
      liveFrames.set(id, entry);
      const next = () => {
        if (!entry.stopped) setTimeout(load, 600);
      };
      const load = () => {
        if (entry.stopped) return;
        img.src = `/api/cameras/${encodeURIComponent(id)}/snapshot.jpg?t=${Date.now()}`;
      };
      img.addEventListener('load', next);
      img.addEventListener('error', () => {
        if (!entry.stopped) setTimeout(load, 2000); // no frame yet, or the camera is down
      });
      load();
    }
  }

  /** Line crossings and zone occupancy of the last hour, refreshed with the live tick (at most every 5 s). */
  let linesZonesAt = 0;
  async function refreshLinesZones() {
    if (!state.loggedIn || Date.now() - linesZonesAt < 5000) return;
    linesZonesAt = Date.now();
    const to = Math.ceil((Date.now() + 1) / 60e3) * 60e3;
    const q = new URLSearchParams({ from: String(to - 3600e3), to: String(to), bucket: 'hour' });
    try {
      const [lines, zones, now] = await Promise.all(
        [`/api/stats/lines?${q}`, `/api/stats/zones?${q}`, '/api/occupancy'].map((u) =>
          fetch(u).then((r) => (r.ok ? r.json() : null)),
        ),
      );
      if (!lines || !zones || !now) return;
      const cell = (c) => (c && !c.suppressed ? fmt(c.people) : c ? '<span class="muted">&lt; k</span>' : '0');
      const inside = new Map(now.zones.map((z) => [`${z.cameraId}/${z.name}`, z]));
      const rows = [
        ...lines.lines.map(
          (l) =>
            `<tr data-line="${esc(l.name)}"><td>${esc(l.cameraId)}</td><td>${esc(l.name)} (line)</td><td class="num" data-testid="line-in">${cell(l.in)}</td><td class="num" data-testid="line-out">${cell(l.out)}</td><td></td></tr>`,
        ),
        ...zones.zones.map((z) => {
          const o = inside.get(`${z.cameraId}/${z.name}`);
          const occ = !o
            ? ''
            : o.suppressed
              ? '&lt; k'
              : `${fmt(o.inside)}${o.capacity ? ' / ' + fmt(o.capacity) : ''}`;
          return `<tr data-zone="${esc(z.name)}"><td>${esc(z.cameraId)}</td><td>${esc(z.name)} (zone)</td><td class="num">${cell(z.entries)}</td><td></td><td class="num${o && o.overCapacity ? ' over' : ''}">${occ}</td></tr>`;
        }),
      ];
      $('lines-zones').hidden = rows.length === 0;
      $('lines-zones-rows').innerHTML = rows.join('');
    } catch {
      /* the next tick tries again */
    }
  }

  function setConn(text, cls) {
    const el = $('conn');
    el.textContent = text;
    el.className = `pill ${cls}`;
  }

  /** Query string for the current range and filters (REST and CSV share it); the store comparison takes no filter. */
  function rangeQuery(filtered = true) {
    const [span, bucket] = state.range === 'live' ? [3600e3, 'minute'] : RANGES[state.range];
    const to = Math.ceil((Date.now() + 1) / 60e3) * 60e3;
    const q = new URLSearchParams({ from: String(to - span), to: String(to), bucket });
    if (!filtered) return q;
    if (state.camera) q.set('camera', state.camera);
    else if (state.group) q.set('group', state.group);
    return q;
  }
  function updateCsvLink() {
    $('csv').href = `/api/stats/csv?${rangeQuery()}`;
    $('stores-csv').href = `/api/stats/groups/csv?${rangeQuery(false)}`;
  }

  function connectLive() {
    if (source) source.close();
    source = new EventSource('/api/live');
    source.addEventListener('snapshot', (ev) => {
      const snap = JSON.parse(ev.data);
      setConn('live', 'pill-ok');
      renderScope(snap.scope);
      renderCameras(snap.cameras);
      renderLiveView(snap.cameras || []);
      void refreshLinesZones();
      lastHour = snap.lastHour;
      lastHourStores = snap.groups;
      if (state.range === 'live') {
        render(lastHour);
        renderStores(lastHourStores);
      }
    });
    source.onerror = async () => {
      setConn('reconnecting…', 'pill-bad');
      try {
        const me = await fetch('/api/auth/me');
        if (me.status === 401) {
          source.close();
          showLogin('Your session ended; sign in again.');
        }
      } catch {
        // Server unreachable: EventSource keeps retrying on its own.
      }
    };
  }

  /** Re-render now after a filter or range change (live data is already here; history is fetched). */
  function refresh() {
    if (state.range === 'live' && lastHour) render(lastHour);
    if (state.range === 'live' && lastHourStores) renderStores(lastHourStores);
    else if (shownStores) renderStores(shownStores); // the selected store's row is highlighted
    loadRange();
  }

  async function loadRange() {
    if (!state.loggedIn) return;
    updateCsvLink();
    if (state.range === 'live') return;
    const range = state.range;
    try {
      const [res, storesRes] = await Promise.all([
        fetch(`/api/stats?${rangeQuery()}`),
        fetch(`/api/stats/groups?${rangeQuery(false)}`),
      ]);
      if (res.status === 401 || storesRes.status === 401) return showLogin('Your session ended; sign in again.');
      const failed = [res, storesRes].find((r) => !r.ok);
      if (failed) return setConn(failed.status === 429 ? 'rate limited' : `error ${failed.status}`, 'pill-bad');
      const [stats, stores] = await Promise.all([res.json(), storesRes.json()]);
      if (state.range !== range) return; // a slow answer for a range no longer picked is dropped
      render(stats);
      renderStores(stores);
    } catch {
      setConn('offline', 'pill-bad');
    }
  }

  /** Signed out (or never in): nothing of the last session stays on screen. */
  function showLogin(message) {
    state.loggedIn = false;
    state.role = null;
    renderLiveView([]);
    $('lines-zones').hidden = true;
    if (source) {
      source.close();
      source = undefined;
    }
    lastHour = undefined;
    lastHourStores = undefined;
    clearStores();
    $('user').textContent = '';
    $('logout').hidden = true;
    setConn('signed out', 'pill-wait');
    [
      'kpi-visitors',
      'kpi-female',
      'kpi-male',
      'kpi-unknown',
      'kpi-coverage',
      'kpi-faces',
      'kpi-female-share',
      'kpi-male-share',
    ].forEach((id) => {
      $(id).textContent = '–';
    });
    $('kpi-coverage-note').textContent = 'visitors with a decided gender';
    $('cameras').innerHTML = '';
    $('cameras-note').textContent = '';
    $('suppressed-note').textContent = '';
    $('range-label').textContent = '';
    if (timeline) {
      timeline.data.labels = [];
      timeline.data.datasets.forEach((d) => {
        d.data = [];
      });
      timeline.update();
      split.data.datasets[0].data = [0, 0, 0];
      split.update();
    }
    $('login-pass').value = '';
    $('login').hidden = false;
    $('login-error').textContent = message || '';
    ($('login-user').value ? $('login-pass') : $('login-user')).focus();
  }

  /** Footer: which model counts, and how well it was measured ("unmeasured" when it never was). */
  async function loadModel() {
    const res = await fetch('/api/models').catch(() => null);
    if (!res || res.status === 404) {
      $('model').textContent = 'Model: served by the inference process (its /api/models has the model card).';
      return;
    }
    if (!res.ok) return;
    const { active } = await res.json();
    $('model').textContent = `Model: ${active.name} ${active.version} · ${active.headline}`;
    $('model').classList.toggle('unmeasured', !active.measured);
  }

  async function start() {
    const res = await fetch('/api/auth/me');
    if (res.status === 401) return showLogin();
    const me = await res.json();
    state.role = me.principal.role;
    state.loggedIn = true;
    $('user').textContent = me.authEnabled ? `${me.principal.name} · ${me.principal.role}` : 'auth off (demo)';
    $('logout').hidden = !me.authEnabled;
    $('login').hidden = true;
    $('login-pass').value = '';
    connectLive();
    loadRange();
    loadModel();
  }

  document.addEventListener('DOMContentLoaded', () => {
    initCharts();
    $('range').addEventListener('change', (e) => {
      state.range = e.target.value;
      refresh();
    });
    $('camera-filter').addEventListener('change', (e) => {
      state.camera = e.target.value;
      refresh();
    });
    document.querySelectorAll('.stores-table th').forEach((th) => {
      th.addEventListener('click', () => {
        const key = th.dataset.sort;
        // Names read best A to Z; numbers biggest first.
        storesView.desc = storesView.sort === key ? !storesView.desc : key !== 'label';
        storesView.sort = key;
        if (shownStores) renderStores(shownStores);
      });
    });
    $('stores-metric').addEventListener('change', (e) => {
      storesView.metric = e.target.value;
      if (shownStores) renderStores(shownStores);
    });
    $('group-filter').addEventListener('change', (e) => {
      state.group = e.target.value;
      state.camera = '';
      $('camera-filter').value = '';
      fillCameraFilter();
      refresh();
    });
    $('login-form').addEventListener('submit', async (e) => {
      e.preventDefault();
      const res = await fetch('/api/auth/login', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ username: $('login-user').value, password: $('login-pass').value }),
      });
      if (!res.ok)
        return showLogin(res.status === 429 ? 'Too many attempts; wait a moment.' : 'Unknown user or wrong password.');
      $('login-error').textContent = '';
      start();
    });
    $('logout').addEventListener('click', async () => {
      if (source) source.close();
      await fetch('/api/auth/logout', { method: 'POST' }).catch(() => undefined);
      $('login-user').value = '';
      showLogin();
    });
    // A saved line or zone shows in the counts table at once, not at the next 5 s refresh.
    document.addEventListener('geometry-saved', () => {
      linesZonesAt = 0;
      void refreshLinesZones();
    });
    setInterval(loadRange, 30e3);
    start();
  });
})();
