/*
 * sunwire dashboard. Plain JavaScript, no libraries, nothing fetched from
 * outside this server: the state comes from /api/state once, then changes
 * arrive over Server-Sent Events (/api/events); charts are SVG drawn here.
 */
'use strict';

(function () {
  const $ = (sel, root) => (root || document).querySelector(sel);
  const PAGES = ['overview', 'panels', 'history', 'devices', 'live'];
  const COLORS = ['#f5a524', '#5b7bd5', '#2fa36b', '#b05fd1', '#d64545', '#1fa2b8', '#8c6d1f', '#e0679b'];

  const state = {
    panels: new Map(),     // id -> panel
    strings: new Map(),    // name -> aggregate
    sources: new Map(),    // name -> source
    gateways: new Map(),   // "source:id" -> gateway
    inverters: new Map(),  // name -> inverter
    values: new Map(),     // "inverter|object" -> value
    alerts: [],
    problems: new Map(),   // "kind|source|subject" -> active problem
    history: false,
    now: Date.now(),
    clockSkew: 0,          // server time - browser time, ms
  };
  const live = { paused: false, events: [], kinds: new Set(), total: 0, version: 0 };
  let page = 'overview';
  let renderQueued = false;
  let lastRender = 0;
  let todayChartAt = 0;

  // ---- formatting ---------------------------------------------------------
  function esc(s) {
    return String(s === undefined || s === null ? '' : s)
      .replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
      .replace(/"/g, '&quot;').replace(/'/g, '&#39;');
  }
  function num(v, digits) {
    if (v === null || v === undefined || !isFinite(v)) return '–';
    return Number(v).toFixed(digits === undefined ? 1 : digits);
  }
  function watts(w) {
    if (w === null || w === undefined || !isFinite(w)) return '–';
    const a = Math.abs(w);
    if (a >= 10000) return (w / 1000).toFixed(1) + ' kW';
    if (a >= 1000) return (w / 1000).toFixed(2) + ' kW';
    return Math.round(w) + ' W';
  }
  function energy(wh) {
    if (wh === null || wh === undefined || !isFinite(wh)) return '–';
    if (Math.abs(wh) >= 1000) return (wh / 1000).toFixed(2) + ' kWh';
    return Math.round(wh) + ' Wh';
  }
  function ago(iso) {
    if (!iso) return 'never';
    const t = Date.parse(iso);
    if (!isFinite(t)) return '–';
    const s = Math.max(0, Math.round((Date.now() + state.clockSkew - t) / 1000));
    if (s < 60) return s + ' s ago';
    if (s < 3600) return Math.floor(s / 60) + ' min ago';
    if (s < 86400) return Math.floor(s / 3600) + ' h ago';
    return Math.floor(s / 86400) + ' d ago';
  }
  function clock(ms) {
    const d = new Date(ms);
    return String(d.getHours()).padStart(2, '0') + ':' + String(d.getMinutes()).padStart(2, '0');
  }
  function isoDay(d) {
    return d.getFullYear() + '-' + String(d.getMonth() + 1).padStart(2, '0') + '-' +
      String(d.getDate()).padStart(2, '0');
  }

  // ---- data ------------------------------------------------------------------
  async function getJSON(url) {
    const r = await fetch(url, { cache: 'no-store' });
    let body = null;
    try { body = await r.json(); } catch (e) { body = null; }
    if (!r.ok) {
      const msg = body && body.error ? body.error : ('HTTP ' + r.status);
      const err = new Error(msg);
      err.status = r.status;
      throw err;
    }
    return body;
  }

  function loadState(s) {
    state.panels.clear(); state.strings.clear(); state.sources.clear();
    state.gateways.clear(); state.inverters.clear(); state.values.clear();
    (s.panels || []).forEach(p => state.panels.set(p.id, p));
    (s.strings || []).forEach(x => state.strings.set(x.name, x));
    (s.sources || []).forEach(x => state.sources.set(x.name, x));
    (s.gateways || []).forEach(g => state.gateways.set(g.source + ':' + g.gateway_id, g));
    (s.inverters || []).forEach(inv => {
      state.inverters.set(inv.name, inv);
      (inv.values || []).forEach(v => state.values.set(v.inverter + '|' + v.name, v));
    });
    state.alerts = s.alerts || [];
    state.problems.clear();
    (s.problems || []).forEach(setProblem);
    state.history = !!s.history;
    if (s.now) state.clockSkew = Date.parse(s.now) - Date.now();
  }

  function setProblem(p) {
    const key = p.kind + '|' + p.source + '|' + p.subject;
    if (p.active) state.problems.set(key, p);
    else state.problems.delete(key);
  }

  // The active problems of one panel (by its id), in the order raised.
  function panelProblems(id) {
    return [...state.problems.values()].filter(p => p.panel === id);
  }

  async function refresh() {
    try {
      loadState(await getJSON('api/state'));
      scheduleRender(true);
    } catch (e) {
      setStatus('off', 'cannot reach sunwire: ' + e.message);
    }
  }

  function setStatus(kind, text) {
    const dot = $('#status-dot');
    dot.className = 'dot' + (kind ? ' ' + kind : '');
    $('#status-text').textContent = text;
  }

  function connectEvents() {
    if (!window.EventSource) { setStatus('off', 'no live updates in this browser'); return; }
    const es = new EventSource('api/events');
    es.onopen = () => { setStatus('on', 'live'); refresh(); };
    es.onerror = () => setStatus('off', 'reconnecting…');
    // Every message also feeds the Live view: the raw protocol events when the daemon
    // forwards them, and the model's own updates (panel, string, value, ...) in any case.
    const on = (name, fn) => es.addEventListener(name, ev => {
      let data;
      try { data = JSON.parse(ev.data); } catch (e) { return; }
      fn(data);
      if (name !== 'raw') addLive({ time: new Date(Date.now() + state.clockSkew).toISOString(), kind: name, data: data });
      scheduleRender(false);
    });
    on('panel', p => state.panels.set(p.id, p));
    on('string', s => state.strings.set(s.name, s));
    on('source', s => state.sources.set(s.name, s));
    on('gateway', g => state.gateways.set(g.source + ':' + g.gateway_id, g));
    on('inverter', inv => {
      const old = state.inverters.get(inv.name) || {};
      state.inverters.set(inv.name, Object.assign({}, old, inv));
    });
    on('value', v => state.values.set(v.inverter + '|' + v.name, v));
    on('problem', setProblem);
    on('raw', ev => addLive(ev));
  }

  // ---- rendering ---------------------------------------------------------------
  function scheduleRender(force) {
    if (renderQueued) return;
    renderQueued = true;
    const wait = force ? 0 : Math.max(0, 400 - (Date.now() - lastRender));
    setTimeout(() => {
      renderQueued = false;
      lastRender = Date.now();
      render();
    }, wait);
  }

  function render() {
    if (page === 'overview') renderOverview();
    else if (page === 'panels') renderPanels();
    else if (page === 'devices') renderDevices();
    else if (page === 'live') renderLive();
  }

  function value(name) {
    for (const v of state.values.values()) if (v.name === name && v.value !== null) return v.value;
    return null;
  }
  function valueSum(names) {
    let sum = null;
    names.forEach(n => { const v = value(n); if (v !== null) sum = (sum || 0) + v; });
    return sum;
  }

  function tigoTotal() {
    return state.strings.get('total') || null;
  }

  // -- overview
  function renderOverview() {
    const total = tigoTotal();
    let pv = valueSum(['dc_conv.dc_conv_struct[0].p_dc_lp', 'dc_conv.dc_conv_struct[1].p_dc_lp']);
    if (pv === null && total) pv = total.power_w;
    const grid = value('g_sync.p_ac_grid_sum_lp');
    const house = value('g_sync.p_ac_load_sum_lp');
    let bat = value('g_sync.p_acc_lp');
    if (bat === null) bat = value('power_mng.battery_power');
    let soc = value('battery.soc');
    $('#flow').innerHTML = flowDiagram(pv, bat, soc, grid, house);

    const kp = [];
    kp.push(kpi('Solar now', watts(pv), total ? total.online + ' of ' + total.panels + ' panels reporting' : ''));
    kp.push(kpi('Today', total ? energy(total.energy_today_wh) : '–', total ? 'lifetime ' + energy(total.energy_total_wh) : ''));
    if (soc !== null) kp.push(kpi('Battery', num(soc, 0) + ' %', bat === null ? '' : (bat < 0 ? 'charging ' : 'discharging ') + watts(Math.abs(bat))));
    if (grid !== null) kp.push(kpi('Grid', watts(Math.abs(grid)), grid < 0 ? 'exporting' : 'importing'));
    if (house !== null) kp.push(kpi('House', watts(house), 'consumption'));
    $('#kpis').innerHTML = kp.join('');

    const named = [...state.strings.values()].filter(s => s.name !== 'total');
    const max = Math.max(1, ...named.map(s => s.power_w || 0));
    $('#string-bars').innerHTML = named.length ? named.map(s =>
      '<div class="sbar" data-string="' + esc(s.name) + '"><span class="name">' + esc(s.name) + '</span>' +
      '<span class="track"><span class="fill" style="width:' + (100 * Math.max(0, s.power_w) / max).toFixed(1) + '%"></span></span>' +
      '<span class="val">' + watts(s.power_w) + '<small>' + s.online + '/' + s.panels + ' online · ' + energy(s.energy_today_wh) + '</small></span></div>'
    ).join('') : '<p class="note">No strings configured: map panels to strings in the [panels] section.</p>';

    renderAttention();
    renderAlerts();
    if (Date.now() - todayChartAt > 60000) {
      todayChartAt = Date.now();
      loadDayChart('#today-chart', 'string', 'total', 'today');
    }
  }

  function kpi(label, val, sub) {
    return '<div class="kpi"><div class="label">' + esc(label) + '</div><div class="value">' + esc(val) +
      '</div><div class="sub">' + esc(sub) + '</div></div>';
  }

  // What the health detectors found, oldest first: what it is, on what, since when and why.
  // Like the tiles, an entry is the same element for as long as its problem lasts, and only
  // its texts are rewritten, so a click that spans an update still lands on it.
  const attentionEls = new Map();  // "kind|source|subject" -> { el, what, who, since, reason }
  function attentionItem(key) {
    const el = document.createElement('li');
    el.innerHTML = '<span class="what"></span> · <span class="who"></span><span class="since"></span>' +
      '<div class="reason"></div>';
    const q = sel => el.querySelector(sel);
    return { el: el, what: q('.what'), who: q('.who'), since: q('.since'), reason: q('.reason') };
  }
  function renderAttention() {
    const list = [...state.problems.entries()].sort((a, b) => Date.parse(a[1].since) - Date.parse(b[1].since));
    const box = $('#attention');
    $('#attention-card').classList.toggle('calm', !list.length);
    setText($('#attention-count'), list.length ? String(list.length) : '');
    const none = box.querySelector('li.none');
    if (!list.length) {
      attentionEls.clear();
      if (!none || box.children.length !== 1)
        box.innerHTML = '<li class="none">No problem found: every detector is quiet.</li>';
      return;
    }
    if (none) none.remove();
    const seen = new Set();
    list.forEach(([key, p], i) => {
      let it = attentionEls.get(key);
      if (!it) { it = attentionItem(key); attentionEls.set(key, it); }
      seen.add(key);
      it.el.dataset.kind = p.kind;
      it.el.dataset.subject = p.subject;
      if (p.panel) it.el.dataset.panel = p.panel; else delete it.el.dataset.panel;
      setText(it.what, p.title);
      setText(it.who, p.name);
      setText(it.since, 'since ' + clock(Date.parse(p.since)) + ' (' + ago(p.since) + ')');
      setText(it.reason, p.reason || '');
      if (box.children[i] !== it.el) box.insertBefore(it.el, box.children[i] || null);
    });
    for (const [key, it] of [...attentionEls]) {
      if (!seen.has(key)) { it.el.remove(); attentionEls.delete(key); }
    }
  }

  function renderAlerts() {
    const a = computeAlerts();
    $('#alerts').innerHTML = a.length ? a.map(x =>
      '<li class="' + esc(x.level) + '" data-kind="' + esc(x.kind) + '">' + esc(x.message) + '</li>').join('')
      : '<li class="none">Everything is reporting normally.</li>';
  }

  // The server's alert rules, re-applied to the live state between refreshes.
  function computeAlerts() {
    const out = [];
    const now = Date.now() + state.clockSkew;
    for (const s of state.sources.values()) {
      if (!s.connected) out.push({ level: 'error', kind: 'source_down', message: 'Source ' + s.name + ' (' + s.address + ') is not connected' + (s.last_error ? ': ' + s.last_error : '') });
      else if (s.last_data && now - Date.parse(s.last_data) > 60000) out.push({ level: 'error', kind: 'source_silent', message: 'Source ' + s.name + ' (' + s.address + ') has sent nothing for ' + Math.round((now - Date.parse(s.last_data)) / 1000) + ' s' });
    }
    const panels = [...state.panels.values()];
    const off = panels.filter(p => !p.online);
    if (panels.length && off.length === panels.length) out.push({ level: 'info', kind: 'all_panels_offline', message: 'All ' + panels.length + ' panels are offline (normal at night)' });
    else off.forEach(p => out.push({ level: 'warning', kind: 'panel_offline', message: p.last_seen ? 'Panel ' + p.name + ' is offline (last report ' + ago(p.last_seen) + ')' : 'Panel ' + p.name + ' has never reported' }));
    for (const inv of state.inverters.values())
      if (!inv.online) out.push({ level: 'error', kind: 'inverter_offline', message: 'Inverter ' + inv.name + ' (' + inv.host + ':' + inv.port + ') is not answering' });
    for (const v of state.values.values())
      if (/^fault\[\d+\]\.flt$/.test(v.name) && v.value) out.push({ level: 'error', kind: 'inverter_fault', message: 'Inverter ' + v.inverter + ' reports ' + v.name + ' = ' + v.text });
    for (const inv of state.inverters.values())
      for (const c of inv.control || [])
        if (c.allowed && c.blocked) out.push({ level: 'warning', kind: 'control_blocked', message: 'Inverter ' + inv.name + ' takes no writes to ' + c.object + (c.blocked_until ? ' until ' + new Date(c.blocked_until).toLocaleString() : '') + ': its flash budget is used up' });
    return out;
  }

  function flowDiagram(pv, bat, soc, grid, house) {
    // Centre: the inverter. Lines animate in the direction power flows.
    const W = 520, H = 380, cx = W / 2, cy = H / 2;
    const nodes = {
      pv: { x: 100, y: 112, color: 'var(--pv)', label: 'Solar', val: pv, icon: '☀' },
      grid: { x: W - 100, y: 112, color: 'var(--grid)', label: 'Grid', val: grid, icon: '⚡' },
      bat: { x: 100, y: H - 112, color: 'var(--bat)', label: 'Battery', val: bat, icon: '🔋' },
      house: { x: W - 100, y: H - 112, color: 'var(--house)', label: 'House', val: house, icon: '⌂' },
    };
    // Direction: +1 = towards the inverter, -1 = away from it.
    const dir = {
      pv: pv > 5 ? 1 : 0,
      grid: grid === null ? 0 : grid > 5 ? 1 : grid < -5 ? -1 : 0,
      bat: bat === null ? 0 : bat > 5 ? 1 : bat < -5 ? -1 : 0,
      house: house > 5 ? -1 : 0,
    };
    let s = '<svg class="flow-svg" viewBox="0 0 ' + W + ' ' + H + '" role="img" aria-label="Energy flow">';
    for (const k of Object.keys(nodes)) {
      const n = nodes[k];
      const from = dir[k] >= 0 ? n : { x: cx, y: cy };
      const to = dir[k] >= 0 ? { x: cx, y: cy } : n;
      s += '<path class="flow-line' + (dir[k] ? ' active' : '') + '"' + (dir[k] ? ' style="stroke:' + n.color + '"' : '') +
        ' d="M' + from.x + ' ' + from.y + ' L' + to.x + ' ' + to.y + '"/>';
    }
    s += '<g class="flow-node"><circle cx="' + cx + '" cy="' + cy + '" r="30" style="stroke:var(--muted)"/>' +
      '<text class="flow-sub" x="' + cx + '" y="' + (cy + 4) + '">inverter</text></g>';
    for (const k of Object.keys(nodes)) {
      const n = nodes[k];
      const shown = n.val === null ? '–' : watts(k === 'grid' || k === 'bat' ? Math.abs(n.val) : n.val);
      let sub = '';
      if (k === 'grid' && n.val !== null) sub = n.val < -5 ? 'export' : n.val > 5 ? 'import' : 'idle';
      if (k === 'bat') sub = (soc === null ? '' : num(soc, 0) + ' % · ') + (n.val === null ? '' : n.val < -5 ? 'charging' : n.val > 5 ? 'discharging' : 'idle');
      // A node the installation cannot measure (no inverter, no battery) is drawn faded.
      const absent = n.val === null && !(k === 'bat' && soc !== null);
      if (absent) sub = 'no data';
      s += '<g class="flow-node' + (absent ? ' absent' : '') + '" data-node="' + k + '"><circle cx="' + n.x + '" cy="' + n.y + '" r="44" style="stroke:' + n.color + '"/>';
      if (k === 'bat' && soc !== null) {
        const h = Math.max(0, Math.min(100, soc)) * 0.5;
        s += '<rect x="' + (n.x - 12) + '" y="' + (n.y - 22) + '" width="24" height="50" rx="4" fill="none" stroke="' + n.color + '" stroke-width="2"/>' +
          '<rect x="' + (n.x - 10) + '" y="' + (n.y + 26 - h) + '" width="20" height="' + h.toFixed(1) + '" rx="2" fill="' + n.color + '" opacity=".55"/>';
      } else {
        s += '<text x="' + n.x + '" y="' + (n.y + 10) + '" text-anchor="middle" font-size="30" fill="' + n.color + '">' + n.icon + '</text>';
      }
      const ly = n.y < cy ? n.y - 74 : n.y + 66;
      s += '<text class="flow-label" x="' + n.x + '" y="' + ly + '">' + esc(n.label) + ' ' + esc(shown) + '</text>';
      if (sub) s += '<text class="flow-sub" x="' + n.x + '" y="' + (ly + 15) + '">' + esc(sub) + '</text>';
      s += '</g>';
    }
    return '<div class="flow">' + s + '</svg></div>';
  }

  // -- panels
  function groupsOfPanels() {
    const groups = new Map();
    for (const s of state.strings.keys()) if (s !== 'total') groups.set(s, []);
    for (const p of state.panels.values()) {
      const g = p.string || '';
      if (!groups.has(g)) groups.set(g, []);
      groups.get(g).push(p);
    }
    for (const list of groups.values())
      list.sort((a, b) => String(a.name).localeCompare(String(b.name), undefined, { numeric: true }));
    return groups;
  }

  function tileColor(p, best) {
    const r = best > 0 ? Math.max(0, Math.min(1, p.power_w / best)) : 0;
    // From pale sand (nothing) to full amber (the best panel of the string).
    return 'hsl(38,' + (80 + 15 * r).toFixed(0) + '%,' + (88 - 36 * r).toFixed(0) + '%)';
  }

  // The grid is built once and then updated in place: a tile is the same button for as
  // long as its panel exists, and only the texts and colours that changed are written, so
  // a press that spans an update still ends on the button it began on.
  const tileEls = new Map();   // panel id -> { el, name, badge, code, power, v, i, t, r, seen }
  const groupEls = new Map();  // string name -> { el, title, note, tiles }
  let panelsLayout = null;

  function setText(el, text) {
    if (el.textContent !== text) el.textContent = text;
  }

  function makeTile(id) {
    const el = document.createElement('button');
    el.type = 'button';
    el.className = 'tile';
    el.dataset.panelId = id;
    el.innerHTML = '<div class="t-name"><span></span><span class="badge">OFFLINE</span></div><div class="t-code"></div>' +
      '<div class="pbadge"></div><div class="tile-power"></div><dl><dt>V in/out</dt><dd class="t-v"></dd><dt>Current</dt><dd class="t-i"></dd>' +
      '<dt>Temp.</dt><dd class="t-t"></dd><dt>RSSI</dt><dd class="t-r"></dd><dt>Seen</dt><dd class="t-seen"></dd></dl>';
    const q = sel => el.querySelector(sel);
    return { el: el, name: q('.t-name span'), badge: q('.badge'), code: q('.t-code'), problem: q('.pbadge'), power: q('.tile-power'),
      v: q('.t-v'), i: q('.t-i'), t: q('.t-t'), r: q('.t-r'), seen: q('.t-seen') };
  }

  function makeGroup(name) {
    const el = document.createElement('div');
    el.className = 'group';
    el.dataset.string = name;
    el.innerHTML = '<div class="group-head"><h2></h2><span class="note"></span></div><div class="tiles"></div>';
    el.querySelector('h2').textContent = name || 'Not in a string';
    return { el: el, note: el.querySelector('.note'), tiles: el.querySelector('.tiles') };
  }

  function updateTile(t, p, best) {
    const stale = !p.online, never = !p.last_seen;
    t.el.classList.toggle('stale', stale);
    const bg = stale ? '' : tileColor(p, best);
    if (t.el.dataset.bg !== bg) {
      t.el.dataset.bg = bg;
      t.el.style.background = bg;
    }
    t.badge.style.display = stale ? '' : 'none';
    // A panel with an active problem stands out whatever its power: the colour says "look here".
    const probs = panelProblems(p.id);
    t.el.classList.toggle('problem', probs.length > 0);
    setText(t.problem, probs.map(x => x.title).join(' · '));
    const tip = probs.map(x => x.title + ': ' + x.reason).join('\n');
    if (t.el.title !== tip) t.el.title = tip;
    if (probs.length) t.el.dataset.problems = probs.map(x => x.kind).join(' ');
    else delete t.el.dataset.problems;
    setText(t.name, String(p.name));
    setText(t.code, p.barcode || 'barcode unknown');
    setText(t.power, never ? '–' : watts(p.power_w));
    setText(t.v, never ? '–' : num(p.voltage_in) + ' / ' + num(p.voltage_out) + ' V');
    setText(t.i, never ? '–' : num(p.current_in, 2) + ' A');
    setText(t.t, never ? '–' : num(p.temperature_c) + ' °C');
    setText(t.r, never ? '–' : String(p.rssi));
    setText(t.seen, ago(p.last_seen));
  }

  function renderPanels() {
    const groups = [...groupsOfPanels()].filter(g => g[1].length);
    const box = $('#panel-groups');
    // Rebuild the skeleton only when panels or strings come or go; tiles are reused.
    const layout = groups.map(g => g[0] + '=' + g[1].map(p => p.id).join(',')).join('|');
    if (layout !== panelsLayout) {
      panelsLayout = layout;
      const seen = new Set(), used = new Set();
      box.textContent = '';
      for (const [name, list] of groups) {
        let g = groupEls.get(name);
        if (!g) { g = makeGroup(name); groupEls.set(name, g); }
        used.add(name);
        for (const p of list) {
          let t = tileEls.get(p.id);
          if (!t) { t = makeTile(p.id); tileEls.set(p.id, t); }
          seen.add(p.id);
          g.tiles.appendChild(t.el);  // moves it if it was elsewhere
        }
        box.appendChild(g.el);
      }
      for (const id of [...tileEls.keys()]) if (!seen.has(id)) tileEls.delete(id);
      for (const name of [...groupEls.keys()]) if (!used.has(name)) groupEls.delete(name);
      if (!groups.length) box.innerHTML = '<div class="card"><p class="note">No panels have been heard yet.</p></div>';
    }
    for (const [name, list] of groups) {
      const best = Math.max(0, ...list.filter(p => p.online).map(p => p.power_w));
      const agg = state.strings.get(name);
      setText(groupEls.get(name).note, agg ? watts(agg.power_w) + ' · ' + agg.online + '/' + agg.panels + ' online · today ' +
        energy(agg.energy_today_wh) : list.length + ' panels');
      for (const p of list) updateTile(tileEls.get(p.id), p, best);
    }
  }

  // -- charts
  function niceMax(v) {
    if (!(v > 0)) return 1;
    const p = Math.pow(10, Math.floor(Math.log10(v)));
    for (const m of [1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10]) if (m * p >= v) return m * p;
    return 10 * p;
  }

  /* series: [{name, color, points: [[ms, value], ...]}]; x spans [x0, x1] (ms). */
  function lineChart(series, x0, x1, unit) {
    const W = 900, H = 250, L = 62, R = 14, T = 12, B = 30;
    const all = series.flatMap(s => s.points.map(p => p[1]));
    const max = niceMax(Math.max(0, ...all));
    const X = t => L + (W - L - R) * (t - x0) / (x1 - x0);
    const Y = v => T + (H - T - B) * (1 - v / max);
    let s = '<svg class="chart" viewBox="0 0 ' + W + ' ' + H + '" role="img">';
    for (let i = 0; i <= 4; i++) {
      const v = max * i / 4, y = Y(v);
      s += '<line class="axis" x1="' + L + '" x2="' + (W - R) + '" y1="' + y + '" y2="' + y + '"/>' +
        '<text class="tick" x="' + (L - 6) + '" y="' + (y + 4) + '" text-anchor="end">' + esc(unit === 'W' ? watts(v) : num(v, 0)) + '</text>';
    }
    for (let h = 0; h <= 24; h += 3) {
      const x = X(x0 + h * 3600000);
      s += '<text class="tick" x="' + x + '" y="' + (H - 8) + '" text-anchor="middle">' + String(h).padStart(2, '0') + ':00</text>';
    }
    if (!all.length) s += '<text class="empty" x="' + (W / 2) + '" y="' + (H / 2) + '">No data for this day</text>';
    series.forEach(ser => {
      if (!ser.points.length) return;
      const pts = ser.points.map(p => X(p[0]).toFixed(1) + ',' + Y(Math.max(0, p[1])).toFixed(1));
      if (series.length === 1)
        s += '<path class="area" fill="' + ser.color + '" d="M' + X(ser.points[0][0]).toFixed(1) + ',' + Y(0) + ' L' + pts.join(' L') + ' L' + X(ser.points[ser.points.length - 1][0]).toFixed(1) + ',' + Y(0) + ' Z"/>';
      s += '<path class="series" stroke="' + ser.color + '" d="M' + pts.join(' L') + '"/>';
      // The newest point gets a dot, so a day that has only just begun still shows something.
      const last = pts[pts.length - 1].split(',');
      s += '<circle class="dot-last" cx="' + last[0] + '" cy="' + last[1] + '" r="4" fill="' + ser.color + '"/>';
    });
    s += '</svg>';
    if (series.length > 1)
      s += '<div class="chart-legend">' + series.map(x => '<span><i style="background:' + x.color + '"></i>' + esc(x.name) + '</span>').join('') + '</div>';
    return s;
  }

  function barChart(days) {
    const W = 900, H = 260, L = 64, R = 10, T = 12, B = 34;
    const max = niceMax(Math.max(0, ...days.map(d => d.wh)));
    const n = Math.max(1, days.length), bw = (W - L - R) / n;
    const Y = v => T + (H - T - B) * (1 - v / max);
    let s = '<svg class="chart" viewBox="0 0 ' + W + ' ' + H + '" role="img">';
    for (let i = 0; i <= 4; i++) {
      const v = max * i / 4, y = Y(v);
      s += '<line class="axis" x1="' + L + '" x2="' + (W - R) + '" y1="' + y + '" y2="' + y + '"/>' +
        '<text class="tick" x="' + (L - 6) + '" y="' + (y + 4) + '" text-anchor="end">' + esc(energy(v)) + '</text>';
    }
    days.forEach((d, i) => {
      const x = L + i * bw + bw * 0.15, y = Y(Math.max(0, d.wh));
      s += '<rect class="bar' + (i === days.length - 1 && d.today ? ' today' : '') + '" x="' + x.toFixed(1) + '" y="' + y.toFixed(1) +
        '" width="' + (bw * 0.7).toFixed(1) + '" height="' + Math.max(0, Y(0) - y).toFixed(1) + '"><title>' + esc(d.day + ': ' + energy(d.wh)) + '</title></rect>';
      if (days.length <= 10 || i % Math.ceil(days.length / 10) === 0 || i === days.length - 1)
        s += '<text class="tick" x="' + (x + bw * 0.35).toFixed(1) + '" y="' + (H - 10) + '" text-anchor="middle">' + esc(d.day.slice(5)) + '</text>';
    });
    if (!days.length) s += '<text class="empty" x="' + (W / 2) + '" y="' + (H / 2) + '">No data</text>';
    return s + '</svg>';
  }

  /* The daily performance index: one dot per day (0..max), a line at 1 = like its peers. */
  function perfChart(days) {
    const W = 900, H = 200, L = 52, R = 14, T = 12, B = 30;
    const max = Math.max(1.25, niceMax(Math.max(0, ...days.map(d => d.performance))));
    if (!days.length) return '<p class="note">No performance index yet: it needs the history and a day with enough sun.</p>';
    const first = Date.parse(days[0].day), last = Date.parse(days[days.length - 1].day);
    const span = Math.max(86400000, last - first);
    const X = d => L + (W - L - R) * (Date.parse(d) - first) / span;
    const Y = v => T + (H - T - B) * (1 - Math.max(0, v) / max);
    let s = '<svg class="chart perf-chart" viewBox="0 0 ' + W + ' ' + H + '" role="img" aria-label="Performance index">';
    for (let i = 0; i <= 4; i++) {
      const v = max * i / 4, y = Y(v);
      s += '<line class="axis" x1="' + L + '" x2="' + (W - R) + '" y1="' + y + '" y2="' + y + '"/>' +
        '<text class="tick" x="' + (L - 6) + '" y="' + (y + 4) + '" text-anchor="end">' + Math.round(v * 100) + '%</text>';
    }
    s += '<line class="perf-ref" x1="' + L + '" x2="' + (W - R) + '" y1="' + Y(1) + '" y2="' + Y(1) + '"/>';
    const pts = days.map(d => X(d.day).toFixed(1) + ',' + Y(d.performance).toFixed(1));
    s += '<path class="series" stroke="' + COLORS[0] + '" d="M' + pts.join(' L') + '"/>';
    days.forEach((d, i) => {
      const xy = pts[i].split(',');
      s += '<circle cx="' + xy[0] + '" cy="' + xy[1] + '" r="3.5" fill="' + COLORS[0] + '"><title>' +
        esc(d.day + ': ' + Math.round(d.performance * 100) + '% of its peers') + '</title></circle>';
      if (days.length <= 8 || i % Math.ceil(days.length / 8) === 0 || i === days.length - 1)
        s += '<text class="tick" x="' + xy[0] + '" y="' + (H - 8) + '" text-anchor="middle">' + esc(d.day.slice(5)) + '</text>';
    });
    return s + '</svg>';
  }

  async function loadPerfChart(id) {
    const box = $('#modal-perf');
    try {
      const a = await getJSON('api/history/performance?days=56&panel=' + encodeURIComponent(id));
      if (modalPanel !== id) return;
      box.innerHTML = perfChart(a.days.filter(d => typeof d.performance === 'number'));
    } catch (e) {
      if (modalPanel === id) box.innerHTML = '<p class="note">' + esc(e.message) + '</p>';
    }
  }

  function dayBounds(answer) {
    return [Date.parse(answer.start), Date.parse(answer.end)];
  }

  async function loadDayChart(sel, kind, name, day, stale) {
    const box = $(sel);
    try {
      const a = await getJSON('api/history/day?' + kind + '=' + encodeURIComponent(name) + '&day=' + encodeURIComponent(day));
      if (stale && stale()) return null;
      const b = dayBounds(a);
      box.innerHTML = lineChart([{ name: a.name, color: COLORS[0], points: a.points }], b[0], b[1], 'W');
      return a;
    } catch (e) {
      if (!(stale && stale())) box.innerHTML = '<p class="note">' + esc(e.message) + '</p>';
      return null;
    }
  }

  // -- history
  function fillSubjects() {
    const sel = $('#hist-subject');
    const keep = sel.value;
    let opts = '<optgroup label="Strings"><option value="string:total">All panels (total)</option>';
    for (const s of state.strings.keys()) if (s !== 'total') opts += '<option value="string:' + esc(s) + '">String ' + esc(s) + '</option>';
    opts += '</optgroup><optgroup label="Panels">';
    const panels = [...state.panels.values()].sort((a, b) => String(a.name).localeCompare(String(b.name), undefined, { numeric: true }));
    for (const p of panels) opts += '<option value="panel:' + esc(p.id) + '">' + esc(p.name) + (p.barcode ? ' (' + esc(p.barcode) + ')' : '') + '</option>';
    sel.innerHTML = opts + '</optgroup>';
    if (keep && [...sel.options].some(o => o.value === keep)) sel.value = keep;
  }

  // Each render supersedes the previous one: answers to an older request (the day the
  // page opened with, say) must not overwrite the chart of the day chosen since.
  let historyGeneration = 0;

  async function renderHistory() {
    const gen = ++historyGeneration;
    const stale = () => gen !== historyGeneration;
    fillSubjects();
    const dayInput = $('#hist-day');
    if (!dayInput.value) dayInput.value = isoDay(new Date(Date.now() + state.clockSkew));
    const day = dayInput.value;
    const subject = $('#hist-subject').value || 'string:total';
    const i = subject.indexOf(':');
    const kind = subject.slice(0, i), name = subject.slice(i + 1);
    $('#hist-note').textContent = state.history ? 'from the history database' : 'only today is available (history output not enabled)';
    const a = await loadDayChart('#hist-chart', kind, name, day, stale);
    if (stale()) return;
    $('#hist-title').textContent = a ? 'Power: ' + a.name + ' on ' + a.day : 'Power';

    const names = [...state.strings.keys()].filter(s => s !== 'total');
    const answers = await Promise.all(names.map(n =>
      getJSON('api/history/day?string=' + encodeURIComponent(n) + '&day=' + encodeURIComponent(day)).catch(() => null)));
    if (stale()) return;
    const ok = answers.filter(Boolean);
    if (ok.length) {
      const b = dayBounds(ok[0]);
      $('#hist-strings').innerHTML = lineChart(ok.map((x, k) => ({ name: x.name, color: COLORS[k % COLORS.length], points: x.points })), b[0], b[1], 'W');
    } else {
      $('#hist-strings').innerHTML = '<p class="note">No string data for this day.</p>';
    }

    try {
      const d = await getJSON('api/history/daily?days=30');
      if (stale()) return;
      const rows = d.days.map(x => ({ day: x.day, wh: x.wh }));
      if (rows.length) rows[rows.length - 1].today = rows[rows.length - 1].day === d.last;
      $('#hist-daily').innerHTML = barChart(rows);
    } catch (e) {
      $('#hist-daily').innerHTML = '<p class="note">' + esc(e.message) + '</p>';
    }
  }

  // -- devices
  function pill(ok, yes, no) {
    return '<span class="pill ' + (ok ? 'ok' : 'bad') + '">' + esc(ok ? yes : no) + '</span>';
  }

  function renderDevices() {
    const src = [...state.sources.values()];
    $('#sources-table').innerHTML = '<thead><tr><th>Source</th><th>Kind</th><th>Address</th><th>State</th><th>Last data</th>' +
      '<th>Bytes</th><th>Frames</th><th>CRC errors</th><th>Resyncs</th><th>Reconnects</th><th>Requests</th><th>Timeouts</th><th>Retries</th><th>Last error</th><th>Line</th></tr></thead><tbody>' +
      src.map(s => '<tr data-source="' + esc(s.name) + '"><td><b>' + esc(s.name) + '</b></td><td>' + esc(s.kind) + '</td><td class="mono">' + esc(s.address) + '</td><td>' +
        pill(s.connected, 'connected', 'down') + '</td><td>' + ago(s.last_data) + '</td><td class="num">' + s.bytes + '</td><td class="num">' + s.frames +
        '</td><td class="num">' + s.crc_errors + '</td><td class="num">' + s.resyncs + '</td><td class="num">' + s.reconnects + '</td><td class="num">' + s.requests +
        '</td><td class="num">' + s.timeouts + '</td><td class="num">' + s.retries + '</td><td>' + esc(s.last_error) + '</td><td>' + esc(s.diagnosis || '') + '</td></tr>').join('') + '</tbody>';

    const gws = [...state.gateways.values()];
    $('#gateways').innerHTML = gws.length ? gws.map(g => {
      const nodes = [...state.panels.values()].filter(p => p.source === g.source && p.gateway_id === g.gateway_id)
        .sort((a, b) => a.node_id - b.node_id);
      return '<div class="dev" data-gateway="' + esc(g.source + ':' + g.gateway_id) + '"><div class="dev-head"><strong>Gateway ' + g.gateway_id + ' on ' + esc(g.source) + '</strong>' +
        '<span>firmware <b class="fw">' + esc(g.version || 'unknown') + '</b></span><span>address <span class="mono">' + esc(g.address || '–') + '</span></span>' +
        '<span>barcode <span class="mono">' + esc(g.barcode || '–') + '</span></span></div>' +
        '<div class="table-wrap"><table><thead><tr><th>Node</th><th>Barcode</th><th>Panel</th><th>String</th><th>State</th><th>Last seen</th></tr></thead><tbody>' +
        nodes.map(p => '<tr><td>' + p.node_id + '</td><td class="mono">' + esc(p.barcode || '–') + '</td><td>' + esc(p.name) + '</td><td>' + esc(p.string) +
          '</td><td>' + pill(p.online, 'online', 'offline') + '</td><td>' + ago(p.last_seen) + '</td></tr>').join('') + '</tbody></table></div></div>';
    }).join('') : '<p class="note">No gateway has identified itself yet.</p>';

    const invs = [...state.inverters.values()];
    $('#inverters').innerHTML = invs.length ? invs.map(inv => {
      const vals = [...state.values.values()].filter(v => v.inverter === inv.name).sort((a, b) => a.name.localeCompare(b.name));
      return '<div class="dev" data-inverter="' + esc(inv.name) + '"><div class="dev-head"><strong>' + esc(inv.name) + '</strong>' + pill(inv.online, 'online', 'offline') +
        '<span>' + esc(inv.model || 'model unknown') + '</span><span>serial <span class="mono">' + esc(inv.serial || '–') + '</span></span>' +
        '<span>firmware ' + esc(inv.firmware || '–') + '</span><span class="mono">' + esc(inv.host + ':' + inv.port) + '</span><span>last poll ' + ago(inv.last_poll) + '</span></div>' +
        '<div class="table-wrap"><table><thead><tr><th>Object</th><th>Id</th><th>Value</th><th>Updated</th></tr></thead><tbody>' +
        vals.map(v => '<tr><td class="mono">' + esc(v.name) + '</td><td class="mono">' + esc(v.object_id) + '</td><td class="num">' +
          esc(typeof v.value === 'number' ? num(v.value, Math.abs(v.value) < 10 ? 3 : 1) + (v.unit ? ' ' + v.unit : '') : v.text) + '</td><td>' + ago(v.time) + '</td></tr>').join('') +
        '</tbody></table></div></div>';
    }).join('') : '<p class="note">No inverter configured.</p>';
  }

  // -- live
  function addLive(ev) {
    live.total++;
    if (!live.kinds.has(ev.kind)) {
      live.kinds.add(ev.kind);
      const o = document.createElement('option');
      o.value = o.textContent = ev.kind;
      $('#live-kind').appendChild(o);
    }
    if (live.paused) return;
    live.events.unshift(ev);
    live.version++;
    if (live.events.length > 300) live.events.length = 300;
  }

  // One line a person can read for each event; the JSON stays one click away (the toggle).
  function fields(d, skip) {
    return Object.keys(d).filter(k => skip.indexOf(k) < 0 && d[k] !== null && typeof d[k] !== 'object')
      .slice(0, 8).map(k => k + ' ' + d[k]).join(' · ');
  }

  function summary(e) {
    const d = e.data || {};
    switch (e.kind) {
      case 'panel':
        return 'Panel ' + d.name + (d.barcode ? ' (' + d.barcode + ')' : '') + ': ' + (d.online ? watts(d.power_w) + ', ' +
          num(d.voltage_in) + ' V, ' + num(d.current_in, 2) + ' A, ' + num(d.temperature_c) + ' °C' : 'offline');
      case 'string':
        return (d.name === 'total' ? 'All panels' : 'String ' + d.name) + ': ' + watts(d.power_w) + ', ' + d.online + '/' +
          d.panels + ' online, today ' + energy(d.energy_today_wh);
      case 'value':
        return d.inverter + ': ' + d.name + ' = ' + (typeof d.value === 'number' ?
          num(d.value, Math.abs(d.value) < 10 ? 3 : 1) + (d.unit ? ' ' + d.unit : '') : d.text);
      case 'source':
        return 'Source ' + d.name + ' (' + d.kind + ', ' + d.address + ') ' + (d.connected ? 'connected' : 'down') +
          (d.last_error ? ': ' + d.last_error : '');
      case 'gateway':
        return 'Gateway ' + d.gateway_id + ' on ' + d.source + (d.version ? ': firmware ' + d.version : '') +
          (d.address ? ', address ' + d.address : '');
      case 'inverter':
        return 'Inverter ' + d.name + ' ' + (d.online ? 'online' : 'not answering') + (d.model ? ' · ' + d.model : '') +
          (d.serial ? ' · serial ' + d.serial : '');
      case 'problem':
        return (d.active ? 'Problem: ' : 'Cleared: ') + d.title + ' · ' + d.name + (d.reason ? ' (' + d.reason + ')' : '');
      default:
        // Raw protocol events: their type first, then their plain fields.
        return (d.type ? String(d.type).replace(/_/g, ' ') + (fields(d, ['type']) ? ': ' : '') : '') + fields(d, ['type']);
    }
  }

  let liveShown = -1;
  function renderLive() {
    const kind = $('#live-kind').value;
    const key = live.version + '|' + kind;
    $('#live-count').textContent = live.total + ' events received' + (live.paused ? ' · paused' : '');
    if (key === liveShown) return;  // nothing new: leave the list (and its scroll position) alone
    liveShown = key;
    const shown = live.events.filter(e => !kind || e.kind === kind);
    $('#live-list').innerHTML = shown.map(e => '<li data-kind="' + esc(e.kind) + '"><span class="tm">' +
      esc((e.time || '').slice(11, 23)) + '</span><span class="k">' + esc(e.kind) + '</span><span class="sum">' +
      esc(summary(e)) + '</span><code class="js">' + esc(JSON.stringify(e.data)) + '</code></li>').join('');
  }

  // -- panel modal
  let modalPanel = null;
  function openPanel(id) {
    const p = state.panels.get(id);
    if (!p) return;
    modalPanel = id;
    $('#modal-title').textContent = p.name + (p.barcode ? ' · ' + p.barcode : '');
    const facts = [['Power', watts(p.power_w)], ['Today', energy(p.energy_today_wh)], ['Lifetime', energy(p.energy_total_wh)],
      ['V in', num(p.voltage_in) + ' V'], ['V out', num(p.voltage_out) + ' V'], ['Current', num(p.current_in, 2) + ' A'],
      ['Temperature', num(p.temperature_c) + ' °C'], ['RSSI', p.rssi], ['Node', p.source + ' / ' + p.gateway_id + ' / ' + p.node_id],
      ['Performance today', typeof p.performance === 'number' ? Math.round(p.performance * 100) + ' % of its peers' : '–'],
      ['Last seen', ago(p.last_seen)]];
    $('#modal-facts').innerHTML = facts.map(f => '<div><span>' + esc(f[0]) + '</span><b>' + esc(f[1]) + '</b></div>').join('');
    const d = $('#modal-day');
    if (!d.value) d.value = isoDay(new Date(Date.now() + state.clockSkew));
    $('#modal').hidden = false;
    loadDayChart('#modal-chart', 'panel', id, d.value);
    loadPerfChart(id);
  }
  function closePanel() {
    $('#modal').hidden = true;
    modalPanel = null;
  }

  // ---- navigation ------------------------------------------------------------
  function showPage() {
    const want = (location.hash || '').replace(/^#\/?/, '');
    page = PAGES.indexOf(want) >= 0 ? want : 'overview';
    PAGES.forEach(p => { $('#page-' + p).hidden = p !== page; });
    document.querySelectorAll('.tabs a').forEach(a => a.classList.toggle('active', a.dataset.page === page));
    document.title = 'sunwire · ' + page.charAt(0).toUpperCase() + page.slice(1);
    if (page === 'overview') todayChartAt = 0;
    if (page === 'history') renderHistory();
    else render();
  }

  function wire() {
    window.addEventListener('hashchange', showPage);
    $('#panel-groups').addEventListener('click', ev => {
      const t = ev.target.closest('.tile');
      if (t) openPanel(t.dataset.panelId);
    });
    $('#attention').addEventListener('click', ev => {
      const li = ev.target.closest('li[data-panel]');
      if (li && state.panels.has(li.dataset.panel)) openPanel(li.dataset.panel);
    });
    $('#modal-close').addEventListener('click', closePanel);
    $('#modal').addEventListener('click', ev => { if (ev.target.id === 'modal') closePanel(); });
    document.addEventListener('keydown', ev => { if (ev.key === 'Escape') closePanel(); });
    $('#modal-day').addEventListener('change', () => { if (modalPanel) loadDayChart('#modal-chart', 'panel', modalPanel, $('#modal-day').value); });
    $('#hist-day').addEventListener('change', renderHistory);
    $('#hist-subject').addEventListener('change', renderHistory);
    $('#live-pause').addEventListener('click', () => {
      live.paused = !live.paused;
      const b = $('#live-pause');
      b.textContent = live.paused ? 'Resume' : 'Pause';
      b.classList.toggle('on', live.paused);
      renderLive();
    });
    $('#live-clear').addEventListener('click', () => { live.events = []; live.version++; renderLive(); });
    $('#live-raw').addEventListener('change', () => $('#live-list').classList.toggle('show-raw', $('#live-raw').checked));
    $('#live-kind').addEventListener('change', renderLive);
    // Relative times ("12 s ago") and the alerts age even when nothing new arrives.
    setInterval(() => { if (page !== 'history') scheduleRender(false); }, 5000);
    // A full resync now and then repairs anything a dropped event missed.
    setInterval(refresh, 60000);
  }

  wire();
  refresh().then(() => { showPage(); connectEvents(); });
})();
