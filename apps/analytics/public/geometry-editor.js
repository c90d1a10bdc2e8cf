/*
 * CrowdLens line and zone editor (admins): draw on a camera's live snapshot, name, save.
 * Saving PUTs the camera's whole set of lines and zones to /api/admin/cameras/{id}/geometry (ingest
 * counts them from its next frame; analytics forwards it to ingest in the distributed mode), and the
 * server's answer — what is now in force — replaces what is shown. The server validates; its reason
 * for a 400 is shown as it is. dashboard.js opens it (window.crowdlensGeometryEditor.open) and hears
 * a 'geometry-saved' event on document to refresh the counts table.
 */
(function () {
  'use strict';
  const $ = (id) => document.getElementById(id);
  const SVG = 'http://www.w3.org/2000/svg';
  /** A click this close to a zone's first point (share of the picture) closes the zone. */
  const CLOSE_DISTANCE = 0.025;

  const ed = {
    cameraId: null,
    geometry: { lines: [], zones: [] },
    /** 'line' | 'zone' while drawing, null otherwise */
    mode: null,
    points: [],
    /** The shape is complete and waits for a name. */
    naming: false,
    frameTimer: undefined,
    generation: 0,
  };

  const round = (v) => Math.round(Math.min(1, Math.max(0, v)) * 1000) / 1000;

  /** A 4xx/5xx answer in words: the server's reasons (an array for validation errors), else the status. */
  async function reasonOf(res) {
    const body = await res.json().catch(() => null);
    const msg = body && body.message;
    const text = Array.isArray(msg) ? msg.join('; ') : msg;
    return `${res.status === 400 ? 'Not saved' : `Error ${res.status}`}: ${text || res.statusText}`;
  }

  function setError(text) {
    $('editor-error').textContent = text || '';
  }

  function hint() {
    const n = ed.points.length;
    const text = ed.naming
      ? `Name the ${ed.mode} and save it.`
      : ed.mode === 'line'
        ? n === 0
          ? 'Click where the line starts (A)…'
          : 'Click where it ends (B). "In" is the side A→B points to turned 90° clockwise.'
        : ed.mode === 'zone'
          ? n < 3
            ? `Click the zone's corners (${n} so far, at least 3)…`
            : 'Click more corners, or click the first corner (or Close zone) to finish.'
          : 'Draw a line (two clicks) or a zone (its corners), name it and save: it counts from the next frame.';
    $('editor-hint').textContent = text;
    $('editor-close-zone').hidden = !(ed.mode === 'zone' && !ed.naming && n >= 3);
    $('editor-form').hidden = !ed.naming;
    $('editor-capacity-label').hidden = ed.mode !== 'zone';
    $('editor-new-line').classList.toggle('active', ed.mode === 'line');
    $('editor-new-zone').classList.toggle('active', ed.mode === 'zone');
  }

  function el(name, attrs) {
    const node = document.createElementNS(SVG, name);
    for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
    return node;
  }

  /** The shape being drawn, over the picture; saved ones are drawn into the snapshot by the server. */
  function drawPending() {
    const svg = $('editor-overlay');
    svg.replaceChildren();
    if (!ed.mode || ed.points.length === 0) return;
    const pts = ed.points.map(([x, y]) => `${x},${y}`).join(' ');
    const closed = ed.mode === 'zone' && ed.naming;
    svg.append(
      el(closed ? 'polygon' : 'polyline', {
        points: pts,
        class: `pending ${ed.mode}`,
        'vector-effect': 'non-scaling-stroke',
      }),
    );
    for (const [x, y] of ed.points) svg.append(el('ellipse', { cx: x, cy: y, rx: 0.007, ry: 0.009, class: 'corner' }));
  }

  function renderList() {
    const rows = [...ed.geometry.lines.map((l) => ['line', l]), ...ed.geometry.zones.map((z) => ['zone', z])];
    const list = $('editor-list');
    list.replaceChildren();
    if (rows.length === 0) {
      const li = document.createElement('li');
      li.className = 'muted';
      li.textContent = 'No lines or zones on this camera yet.';
      list.append(li);
      return;
    }
    for (const [kind, item] of rows) {
      const li = document.createElement('li');
      li.dataset.geometry = item.name;
      li.dataset.kind = kind;
      const what = document.createElement('span');
      const coords = item.points.map(([x, y]) => `${x.toFixed(2)},${y.toFixed(2)}`).join(' → ');
      what.innerHTML = `<b></b> <span class="muted"></span>`;
      what.firstChild.textContent = item.name;
      what.lastChild.textContent = `${kind}${item.capacity ? ` · capacity ${item.capacity}` : ''} · ${coords}`;
      const del = document.createElement('button');
      del.className = 'link';
      del.type = 'button';
      del.textContent = 'Delete';
      del.dataset.testid = 'editor-delete';
      del.addEventListener('click', () => {
        const next = {
          lines: ed.geometry.lines.filter((l) => !(kind === 'line' && l.name === item.name)),
          zones: ed.geometry.zones.filter((z) => !(kind === 'zone' && z.name === item.name)),
        };
        void save(next);
      });
      li.append(what, del);
      list.append(li);
    }
  }

  /** Only what the API takes: name, points, capacity. */
  function plain(g) {
    return {
      lines: g.lines.map((l) => ({ name: l.name, points: l.points })),
      zones: g.zones.map((z) => ({ name: z.name, points: z.points, ...(z.capacity ? { capacity: z.capacity } : {}) })),
    };
  }

  async function save(next) {
    const id = ed.cameraId;
    setError('');
    $('editor-save').disabled = true;
    try {
      const res = await fetch(`/api/admin/cameras/${encodeURIComponent(id)}/geometry`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(plain(next)),
      });
      if (ed.cameraId !== id) return false;
      if (!res.ok) {
        setError(await reasonOf(res));
        return false;
      }
      ed.geometry = await res.json();
      renderList();
      document.dispatchEvent(new CustomEvent('geometry-saved', { detail: { cameraId: id } }));
      return true;
    } catch {
      setError('Not saved: the server did not answer.');
      return false;
    } finally {
      $('editor-save').disabled = false;
    }
  }

  function startDrawing(mode) {
    ed.mode = mode;
    ed.points = [];
    ed.naming = false;
    setError('');
    $('editor-name').value = '';
    $('editor-capacity').value = '';
    drawPending();
    hint();
  }

  function stopDrawing() {
    ed.mode = null;
    ed.points = [];
    ed.naming = false;
    drawPending();
    hint();
  }

  function finishShape() {
    ed.naming = true;
    drawPending();
    hint();
    $('editor-name').focus();
  }

  function onStageClick(ev) {
    if (!ed.mode || ed.naming) return;
    const box = $('editor-frame').getBoundingClientRect();
    if (box.width === 0 || box.height === 0) return;
    const p = [round((ev.clientX - box.left) / box.width), round((ev.clientY - box.top) / box.height)];
    if (ed.mode === 'zone' && ed.points.length >= 3) {
      const [fx, fy] = ed.points[0];
      if (Math.hypot(p[0] - fx, p[1] - fy) <= CLOSE_DISTANCE) return finishShape();
    }
    ed.points.push(p);
    drawPending();
    if (ed.mode === 'line' && ed.points.length === 2) return finishShape();
    hint();
  }

  async function onSubmit(ev) {
    ev.preventDefault();
    const name = $('editor-name').value.trim();
    const shape = { name, points: ed.points };
    const capacity = Number($('editor-capacity').value);
    if (ed.mode === 'zone' && capacity > 0) shape.capacity = capacity;
    const next = {
      lines: [...ed.geometry.lines, ...(ed.mode === 'line' ? [shape] : [])],
      zones: [...ed.geometry.zones, ...(ed.mode === 'zone' ? [shape] : [])],
    };
    // A refused shape stays drawn, so the name (or the shape) can be fixed and saved again.
    if (await save(next)) stopDrawing();
  }

  /** The editor's picture: reloaded about twice a second once the previous one arrived, like the live view. */
  function watchFrame() {
    const img = $('editor-frame');
    const generation = ++ed.generation;
    const load = () => {
      if (ed.generation !== generation || !ed.cameraId) return;
      img.src = `/api/cameras/${encodeURIComponent(ed.cameraId)}/snapshot.jpg?t=${Date.now()}`;
    };
    img.onload = () => {
      if (ed.generation === generation) ed.frameTimer = setTimeout(load, 600);
    };
    img.onerror = () => {
      if (ed.generation === generation) ed.frameTimer = setTimeout(load, 2000);
    };
    load();
  }

  async function open(cameraId) {
    close();
    ed.cameraId = cameraId;
    $('editor-camera').textContent = cameraId;
    $('geometry-editor').hidden = false;
    ed.geometry = { lines: [], zones: [] };
    renderList();
    stopDrawing();
    watchFrame();
    $('geometry-editor').scrollIntoView({ block: 'nearest' });
    try {
      const res = await fetch(`/api/admin/cameras/${encodeURIComponent(cameraId)}/geometry`);
      if (ed.cameraId !== cameraId) return;
      if (!res.ok) return setError(await reasonOf(res));
      ed.geometry = await res.json();
      renderList();
    } catch {
      setError('Could not load the lines and zones: the server did not answer.');
    }
  }

  function close() {
    ed.cameraId = null;
    ed.generation++;
    clearTimeout(ed.frameTimer);
    const img = $('editor-frame');
    if (img) {
      img.onload = img.onerror = null;
      img.removeAttribute('src');
    }
    if ($('geometry-editor')) $('geometry-editor').hidden = true;
    setError('');
  }

  document.addEventListener('DOMContentLoaded', () => {
    $('editor-stage').addEventListener('click', onStageClick);
    $('editor-new-line').addEventListener('click', () => startDrawing('line'));
    $('editor-new-zone').addEventListener('click', () => startDrawing('zone'));
    $('editor-close-zone').addEventListener('click', finishShape);
    $('editor-cancel').addEventListener('click', () => {
      setError('');
      stopDrawing();
    });
    $('editor-close').addEventListener('click', close);
    $('editor-form').addEventListener('submit', (ev) => void onSubmit(ev));
  });

  window.crowdlensGeometryEditor = { open, close, isOpen: () => ed.cameraId !== null };
})();
