/* reelgate web UI — plain JavaScript, no framework, no build step beyond
 * being embedded into the binary. Hash routes: #/dashboard, #/torrents,
 * #/settings, #/play/{hash}/{index}. The API key is asked for once, kept in
 * sessionStorage (this tab only) and sent as X-Api-Key; every change of
 * state is a POST, PUT or DELETE. Lists are updated in place (keyed by info
 * hash) so polling never steals keyboard focus. */
'use strict';
(() => {
  const KEY_STORE = 'reelgate.apiKey';
  const WINDOW_MS = 15 * 60 * 1000;
  const POLL_MS = 2000;
  let apiKey = sessionStorage.getItem(KEY_STORE) || '';

  const state = {
    status: null, torrents: [], system: null, library: null, warmup: null,
    sync: null, samples: [], settings: null, pollN: 0, busy: false,
  };

  /* ---------------------------------------------------------- helpers -- */
  const $ = (sel, root = document) => root.querySelector(sel);
  const $$ = (sel, root = document) => Array.from(root.querySelectorAll(sel));

  /* el('li', {class: 'x', text: 'y', onclick: fn}, child, …) */
  function el(tag, attrs, ...kids) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k === 'text') e.textContent = v;
      else if (k === 'class') e.className = v;
      else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
      else if (k in e && typeof v !== 'string') e[k] = v;
      else e.setAttribute(k, v === true ? '' : v);
    }
    for (const k of kids.flat()) {
      if (k === null || k === undefined || k === false) continue;
      e.append(k instanceof Node ? k : document.createTextNode(String(k)));
    }
    return e;
  }
  function setText(node, text) {
    if (node.textContent !== text) node.textContent = text;
  }
  function fmtBytes(n) {
    if (n === null || n === undefined || isNaN(n)) return '–';
    const u = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
    let i = 0;
    while (Math.abs(n) >= 1024 && i < u.length - 1) { n /= 1024; i++; }
    return (i ? n.toFixed(n < 10 ? 2 : n < 100 ? 1 : 0) : n) + ' ' + u[i];
  }
  const fmtRate = (n) => fmtBytes(n || 0) + '/s';
  function fmtDur(s) {
    if (s === null || s === undefined || isNaN(s)) return '–';
    s = Math.round(s);
    const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), x = s % 60;
    return (h ? h + ':' + String(m).padStart(2, '0') : m) + ':' + String(x).padStart(2, '0');
  }
  function fmtAgo(ts) {
    if (!ts) return '–';
    const d = Date.now() / 1000 - ts;
    if (d < 90) return Math.max(0, Math.round(d)) + ' s ago';
    if (d < 5400) return Math.round(d / 60) + ' min ago';
    if (d < 172800) return Math.round(d / 3600) + ' h ago';
    return new Date(ts * 1000).toLocaleDateString();
  }
  const pct = (a, b) => (b > 0 ? Math.min(100, (100 * a) / b) : 0);

  let toastTimer = 0;
  function toast(msg, bad) {
    const t = $('#toast');
    t.textContent = msg;
    t.classList.toggle('bad', !!bad);
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => { t.textContent = ''; }, bad ? 8000 : 4000);
  }

  class ApiError extends Error {
    constructor(msg, status, body) { super(msg); this.status = status; this.body = body; }
  }

  /* One API call. 401 signs out (the key was changed elsewhere). */
  async function api(method, path, body, raw) {
    const headers = { 'X-Api-Key': apiKey };
    let payload;
    if (body instanceof FormData) payload = body;
    else if (body !== undefined) {
      headers['Content-Type'] = 'application/json';
      payload = JSON.stringify(body);
    }
    const r = await fetch('/api' + path, { method, headers, body: payload, cache: 'no-store' });
    let j = null;
    try { j = await r.json(); } catch (e) { j = null; }
    if (r.status === 401) {
      signOut('The API key was refused; sign in again.');
      throw new ApiError('unauthorized', 401, j);
    }
    if (!r.ok) throw new ApiError((j && j.error) || 'HTTP ' + r.status, r.status, j);
    return raw ? r : j;
  }

  async function copyText(text, what) {
    try {
      await navigator.clipboard.writeText(text);
      toast((what || 'Text') + ' copied');
    } catch (e) {
      const d = $('#copybox');
      const i = $('#copybox-text');
      i.value = text;
      d.showModal();
      i.focus();
      i.select();
    }
  }

  function confirmBox(text, okLabel, check) {
    const d = $('#confirm');
    $('#confirm-text').textContent = text;
    $('#confirm-ok').textContent = okLabel || 'OK';
    const extra = $('#confirm-extra');
    extra.hidden = !check;
    if (check) {
      $('span', extra).textContent = check.label;
      $('#confirm-check').checked = !!check.checked;
    }
    d.returnValue = '';
    d.showModal();
    return new Promise((resolve) => {
      d.addEventListener('close', () => resolve({
        ok: d.returnValue === 'ok', checked: $('#confirm-check').checked,
      }), { once: true });
    });
  }

  function download(name, text, type) {
    const url = URL.createObjectURL(new Blob([text], { type }));
    const a = el('a', { href: url, download: name });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 5000);
  }

  const torrentTitle = (t) => t.title || t.name || t.info_hash;

  function m3u(t, files) {
    let s = '#EXTM3U\n';
    for (const f of files) {
      const base = f.path.split('/').pop();
      s += '#EXTINF:' + Math.round((f.media && f.media.duration) || -1) + ',' +
        (files.length > 1 ? base : torrentTitle(t)) + '\n' + f.stream_url + '\n';
    }
    return s;
  }

  /* Quality badges from the probe: 4K/1080p, DV, HDR10+/HDR, Atmos, 5.1. */
  function qualityBadges(media) {
    const out = [];
    if (!media || !Array.isArray(media.streams)) return out;
    const v = media.streams.find((s) => s.type === 'video' && !s.attached_pic);
    if (v) {
      const w = v.width || 0, h = v.height || 0;
      if (w >= 3200 || h >= 2000) out.push(['4K', 'q']);
      else if (w >= 1800 || h >= 1000) out.push(['1080p', 'q']);
      else if (w >= 1200 || h >= 700) out.push(['720p', 'q']);
      const hdr = v.hdr_formats || [];
      if (hdr.includes('Dolby Vision')) out.push(['DV', 'hdr']);
      if (hdr.includes('HDR10+')) out.push(['HDR10+', 'hdr']);
      else if (hdr.includes('HDR10') || hdr.includes('HLG')) out.push(['HDR', 'hdr']);
    }
    const audio = media.streams.filter((s) => s.type === 'audio');
    if (audio.some((a) => /atmos/i.test((a.profile || '') + ' ' + (a.title || '')))) out.push(['Atmos', 'hdr']);
    const ch = Math.max(0, ...audio.map((a) => a.channels || 0));
    if (ch >= 8) out.push(['7.1', '']);
    else if (ch >= 6) out.push(['5.1', '']);
    return out;
  }
  function mediaSummary(media) {
    if (!media || !Array.isArray(media.streams)) return '';
    const v = media.streams.find((s) => s.type === 'video' && !s.attached_pic);
    const a = media.streams.find((s) => s.type === 'audio');
    const parts = [];
    if (v) parts.push((v.width && v.height ? v.width + '×' + v.height + ' ' : '') + v.codec);
    if (a) parts.push(a.codec + (a.channel_layout ? ' ' + a.channel_layout : ''));
    if (media.duration) parts.push(fmtDur(media.duration));
    return parts.join(' · ');
  }
  const badge = (text, cls, title) => el('span', { class: 'badge ' + (cls || ''), text, title });
  function mainFile(t) {
    const files = t.files || [];
    let best = null;
    for (const f of files) if (!best || f.size > best.size) best = f;
    return best;
  }

  /* ------------------------------------------------------------- auth -- */
  function signOut(msg) {
    apiKey = '';
    sessionStorage.removeItem(KEY_STORE);
    $('#login-error').textContent = msg || '';
    route();
  }

  $('#login-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const input = $('#login-key');
    const k = input.value.trim();
    const err = $('#login-error');
    if (!k) {
      err.textContent = 'Enter the API key.';
      input.setAttribute('aria-invalid', 'true');
      input.focus();
      return;
    }
    err.textContent = '';
    try {
      const r = await fetch('/api/status', { headers: { 'X-Api-Key': k }, cache: 'no-store' });
      if (r.status === 401) throw new Error('That key was refused.');
      if (!r.ok) throw new Error('The daemon answered HTTP ' + r.status + '.');
      apiKey = k;
      sessionStorage.setItem(KEY_STORE, k);
      input.value = '';
      input.removeAttribute('aria-invalid');
      if (!location.hash || location.hash === '#/login') location.hash = '#/dashboard';
      else route();
      poll();
    } catch (e) {
      err.textContent = e.message || String(e);
      input.setAttribute('aria-invalid', 'true');
      input.focus();
    }
  });
  $('#signout').addEventListener('click', () => signOut(''));

  /* ----------------------------------------------------------- routing -- */
  let current = '';
  function route() {
    const parts = (location.hash || '#/dashboard').slice(2).split('/');
    let view = parts[0] || 'dashboard';
    if (!['dashboard', 'torrents', 'settings', 'play'].includes(view)) view = 'dashboard';
    if (!apiKey) view = 'login';
    const prev = current;
    current = view;
    for (const s of $$('.view')) s.hidden = s.id !== 'view-' + view;
    $('#nav').hidden = $('#signout').hidden = view === 'login';
    for (const a of $$('#nav a')) {
      if (a.dataset.view === view) a.setAttribute('aria-current', 'page');
      else a.removeAttribute('aria-current');
    }
    if (prev === 'play' && view !== 'play') stopPlayer();
    document.title = 'reelgate — ' + view[0].toUpperCase() + view.slice(1);
    if (view === 'login') { $('#login-key').focus(); return; }
    if (prev && prev !== view) $('#main').focus({ preventScroll: true });
    if (view === 'settings') loadSettings();
    if (view === 'play') startPlayer(parts[1], Number(parts[2] || 0));
    if (view === 'dashboard') drawGraph();
    renderAll();
    if (prev !== view && (view === 'dashboard' || view === 'torrents')) {
      state.stale = true; /* fetch every panel at once, not on its turn */
      poll();
    }
  }
  window.addEventListener('hashchange', route);

  /* ----------------------------------------------------------- polling -- */
  /* The daemon keeps the last 15 minutes: start the graph from them. */
  async function loadHistory() {
    state.historyLoaded = true;
    try {
      const h = await api('GET', '/speed');
      const have = new Set(state.samples.map((x) => x.t));
      const old = (h.samples || []).map(([t, d, u]) => ({ t, d, u })).filter((x) => !have.has(x.t));
      state.samples = old.concat(state.samples).sort((a, b) => a.t - b.t);
      drawGraph();
    } catch (e) { /* the graph starts empty */ }
  }

  async function poll() {
    if (!apiKey || state.busy) return;
    if (!state.historyLoaded) await loadHistory();
    state.busy = true;
    const n = state.pollN++;
    const all = state.stale;
    state.stale = false;
    try {
      const st = await api('GET', '/status');
      state.status = st;
      state.samples.push({ t: Date.now(), d: st.download_rate || 0, u: st.upload_rate || 0 });
      const cut = Date.now() - WINDOW_MS;
      while (state.samples.length && state.samples[0].t < cut) state.samples.shift();
      const visible = !document.hidden;
      if (visible && (current === 'dashboard' || current === 'torrents')) {
        state.torrents = (await api('GET', '/torrents')).torrents || [];
      }
      if (visible && current === 'dashboard') {
        const syncRunning = state.sync && Object.values(state.sync.jobs || {}).some((j) => j.running);
        if (n % 3 === 0 || all || !state.system) state.system = await api('GET', '/system');
        if (n % 3 === 0 || all || !state.library) state.library = await api('GET', '/library').catch(() => null);
        if (n % 5 === 0 || all || !state.warmup) state.warmup = await api('GET', '/warmup').catch(() => null);
        if (n % 3 === 0 || all || syncRunning || !state.sync) state.sync = await api('GET', '/sync/status').catch(() => null);
      }
      renderAll();
    } catch (e) {
      if (!(e instanceof ApiError && e.status === 401)) setText($('#streams-note'), 'The daemon did not answer: ' + e.message);
    } finally {
      state.busy = false;
    }
  }
  setInterval(poll, POLL_MS);
  document.addEventListener('visibilitychange', () => { if (!document.hidden) poll(); });

  function renderAll() {
    if (current === 'dashboard') renderDashboard();
    if (current === 'torrents') renderTorrents($('#torrents'), state.torrents, true);
  }

  /* --------------------------------------------------------- dashboard -- */
  function tile(k, v, s) {
    return el('div', { class: 'tile' }, el('div', { class: 'k', text: k }),
      el('div', { class: 'v', text: v }), s ? el('div', { class: 's', text: s }) : null);
  }

  function renderDashboard() {
    const st = state.status || {};
    const sys = state.system || {};
    const lib = (state.library && state.library.entries) || null;
    const w = state.warmup;
    const libSize = lib ? lib.reduce((a, e) => a + (e.size || 0), 0) : null;
    const proc = sys.process || {};
    const mem = (sys.host && sys.host.memory) || {};
    const disk = (sys.disk && sys.disk.data) || {};
    const mount = sys.mount || {};
    $('#tiles').replaceChildren(
      tile('Download', fmtRate(st.download_rate), (st.peers || 0) + ' peers, ' + (st.seeds || 0) + ' seeds'),
      tile('Upload', fmtRate(st.upload_rate), 'BitTorrent port ' + (st.bt_port || '–')),
      tile('Torrents', String(st.torrents ?? '–'), (st.active ?? 0) + ' active, ' + (st.queued ?? 0) + ' queued'),
      tile('Streams', String(st.streams ?? '–'), 'open HTTP streams'),
      tile('Library', lib ? String(lib.length) + ' titles' : '–', lib ? fmtBytes(libSize) : ''),
      tile('Warmup store', w && w.enabled ? fmtBytes(w.used) : 'off',
        w && w.enabled ? 'of ' + fmtBytes(w.quota) + ', ' + w.files + ' files' : ''),
      tile('Cache', fmtBytes(st.cache_bytes), st.cache_budget ? 'of ' + fmtBytes(st.cache_budget) : 'no budget'),
      tile('FUSE mount', mount.path ? (mount.mounted ? 'mounted' : 'not mounted') : 'off', mount.path || ''),
    );
    /* system */
    const dl = $('#system');
    const rows = [
      ['CPU', proc.cpu_percent != null ? proc.cpu_percent.toFixed(1) + ' % of one core' : '…'],
      ['Memory', fmtBytes(proc.rss) + ' resident' + (mem.total ? ', host ' + fmtBytes(mem.available) + ' free of ' + fmtBytes(mem.total) : '')],
      ['Threads', String(proc.threads ?? '–')],
      ['Load', sys.host && sys.host.loadavg ? sys.host.loadavg.map((x) => x.toFixed(2)).join(' ') + ' (' + sys.host.cpus + ' CPUs)' : '–'],
      ['Data disk', disk.total ? fmtBytes(disk.available) + ' free of ' + fmtBytes(disk.total) : (disk.error || '–')],
      ['FUSE', mount.path ? mount.path + (mount.mounted ? ' (mounted)' : ' (not mounted)') : 'no mount configured'],
      ['Uptime', fmtDur(st.uptime_s)],
      ['Version', st.version || '–'],
    ];
    dl.replaceChildren(...rows.flatMap(([k, v]) => [el('dt', { text: k }), el('dd', { text: v })]));
    /* active streams: torrents in the session that play or move bytes */
    const active = state.torrents.filter((t) => t.playing || (t.readers && t.readers.length) || (t.active && (t.download_rate > 0 || t.upload_rate > 0)));
    setText($('#streams-note'), (st.streams || 0) + ' open stream connection(s). ' +
      'Each reader shows its position, its read-ahead window and where its bytes came from (warmup store, cache, swarm).');
    const ul = $('#streams');
    if (!active.length) ul.replaceChildren(el('li', { class: 'empty', text: 'Nothing is streaming.' }));
    else {
      ul.replaceChildren(...active.map((t) => {
        const f = mainFile(t);
        const warm = f && f.warm ? fmtBytes((f.warm.head || 0) + (f.warm.tail || 0)) + ' warm' : null;
        return el('li', {},
          t.poster ? el('img', { class: 'poster', src: t.poster, alt: '' }) : null,
          el('div', { class: 'item-h' }, el('span', { class: 'title', text: torrentTitle(t) }),
            t.playing ? badge('priority', 'prio', 'a media server reports it playing') : null,
            ...(f ? qualityBadges(f.media).map(([b, c]) => badge(b, c)) : [])),
          el('div', { class: 'meta' },
            el('span', { text: '↓ ' + fmtRate(t.download_rate) + '  ↑ ' + fmtRate(t.upload_rate) }),
            el('span', { text: t.peers + ' peers / ' + t.seeds + ' seeds' }),
            f ? el('span', { text: pct(f.downloaded, f.size).toFixed(0) + ' % on disk' }) : null,
            warm ? el('span', { text: warm }) : null),
          ...(t.readers || []).map((r) => {
            const file = (t.files || []).find((x) => x.index === r.file);
            const size = file ? file.size : 0;
            const b = r.bytes || {};
            return el('div', { class: 'meta reader' },
              el('span', { text: 'reader at ' + (size ? pct(r.position, size).toFixed(1) + ' %' : fmtBytes(r.position)) }),
              r.window_bytes > 0 ? el('span', { text: 'window ' + fmtBytes(r.window_bytes) }) : null,
              el('span', { text: 'warm ' + fmtBytes(b.warm || 0) + ' · cache ' + fmtBytes(b.cache || 0) + ' · swarm ' + fmtBytes(b.swarm || 0) }));
          }));
      }));
    }
    /* compact torrent list */
    const tl = $('#dash-torrents');
    if (!state.torrents.length) tl.replaceChildren(el('li', { class: 'empty' }, 'No torrents yet. ', el('a', { href: '#/torrents', text: 'Add one' })));
    else {
      tl.replaceChildren(...state.torrents.map((t) => {
        const bar = el('span');
        bar.style.width = pct(t.downloaded, t.size) + '%';
        return el('li', {},
          el('div', { class: 'item-h' }, el('span', { class: 'title', text: torrentTitle(t) }),
            badge(t.state, 'state-' + t.state)),
          el('div', { class: 'progress', role: 'progressbar', 'aria-valuemin': '0', 'aria-valuemax': '100',
            'aria-valuenow': pct(t.downloaded, t.size).toFixed(0), 'aria-label': 'downloaded' }, bar),
          el('div', { class: 'meta' },
            el('span', { text: fmtBytes(t.downloaded) + ' of ' + fmtBytes(t.size) }),
            el('span', { text: '↓ ' + fmtRate(t.download_rate) + '  ↑ ' + fmtRate(t.upload_rate) })));
      }));
    }
    renderSync();
    drawGraph();
  }

  /* sync jobs: status, last run, buttons, live log of a running job */
  function renderSync() {
    const box = $('#sync');
    const s = state.sync;
    if (!s || !s.jobs) {
      if (!box.dataset.empty) {
        box.replaceChildren(el('p', { class: 'empty', text: 'Sync jobs are not available.' }));
        box.dataset.empty = '1';
      }
      return;
    }
    if (box.dataset.empty) {
      box.replaceChildren();
      delete box.dataset.empty;
    }
    for (const [name, j] of Object.entries(s.jobs)) {
      let item = box.querySelector('[data-job="' + name + '"]');
      if (!item) {
        const run = (dry) => async () => {
          try {
            await api('POST', '/sync/' + name + '/run' + (dry ? '?dry_run=1' : ''));
            toast('Sync job ' + name + ' started' + (dry ? ' (dry run)' : ''));
            state.sync = await api('GET', '/sync/status');
            renderSync();
          } catch (e) { toast(name + ': ' + e.message, true); }
        };
        const stop = async () => {
          try { await api('POST', '/sync/' + name + '/stop'); toast('Stopping ' + name); } catch (e) { toast(e.message, true); }
        };
        item = el('div', { class: 'sync-job', 'data-job': name },
          el('div', { class: 'item-h' }, el('span', { class: 'title', text: name }), el('span', { class: 'badge st' })),
          el('div', { class: 'meta' }, el('span', { class: 'last' }), el('span', { class: 'sched' })),
          el('div', { class: 'inline wrap' },
            el('button', { type: 'button', class: 'small run', text: 'Run now', onclick: run(false) }),
            el('button', { type: 'button', class: 'small dry', text: 'Dry run', onclick: run(true) }),
            el('button', { type: 'button', class: 'small stop', text: 'Stop', onclick: stop })),
          el('pre', { class: 'log', 'aria-label': name + ' log', tabindex: '0' }));
        box.append(item);
      }
      const last = j.last;
      setText($('.st', item), j.running ? 'running' : last ? last.status : 'never run');
      setText($('.last', item), last ? 'last: ' + fmtAgo(last.finished || last.started) +
        (last.summary ? ', ' + last.summary.added + ' added, ' + last.summary.upgraded + ' upgraded, ' + last.summary.failed + ' failed' : '') : '');
      const sc = j.schedule || {};
      setText($('.sched', item), sc.mode ? 'schedule: ' + sc.mode + (sc.next_run ? ', next ' + new Date(sc.next_run * 1000).toLocaleString() : '') : '');
      $('.run', item).disabled = $('.dry', item).disabled = !!j.running;
      $('.stop', item).disabled = !j.running;
      const log = $('.log', item);
      const text = j.current ? j.current.log : (last && last.log) || '';
      log.hidden = !text;
      if (log.textContent !== text) {
        const atEnd = log.scrollTop + log.clientHeight >= log.scrollHeight - 4;
        log.textContent = text;
        if (atEnd) log.scrollTop = log.scrollHeight;
      }
    }
  }

  /* speed graph: canvas, rolling 15 minutes */
  function niceMax(v) {
    const min = 64 * 1024;
    v = Math.max(v, min);
    const p = Math.pow(2, Math.ceil(Math.log2(v)));
    return p * 0.75 >= v ? p * 0.75 : p;
  }
  function drawGraph() {
    const c = $('#graph');
    if (!c || current !== 'dashboard') return;
    const dpr = window.devicePixelRatio || 1;
    const W = c.clientWidth, H = c.clientHeight;
    if (!W || !H) return;
    if (c.width !== Math.round(W * dpr) || c.height !== Math.round(H * dpr)) {
      c.width = Math.round(W * dpr);
      c.height = Math.round(H * dpr);
    }
    const g = c.getContext('2d');
    g.setTransform(dpr, 0, 0, dpr, 0, 0);
    g.clearRect(0, 0, W, H);
    const css = getComputedStyle(document.documentElement);
    const col = (n) => css.getPropertyValue(n).trim();
    const L = 72, R = 8, T = 8, B = 24;
    const pw = W - L - R, ph = H - T - B;
    const now = Date.now(), t0 = now - WINDOW_MS;
    const s = state.samples;
    const max = niceMax(Math.max(0, ...s.map((x) => Math.max(x.d, x.u))));
    g.font = '11px system-ui, sans-serif';
    g.fillStyle = col('--muted');
    g.strokeStyle = col('--line');
    g.lineWidth = 1;
    for (let i = 0; i <= 4; i++) {
      const y = T + ph - (ph * i) / 4;
      g.beginPath(); g.moveTo(L, y + 0.5); g.lineTo(L + pw, y + 0.5); g.stroke();
      g.textAlign = 'right'; g.textBaseline = 'middle';
      g.fillText(fmtRate((max * i) / 4), L - 6, y);
    }
    g.textBaseline = 'top';
    for (let m = 15; m >= 0; m -= 5) {
      g.textAlign = m === 15 ? 'left' : m === 0 ? 'right' : 'center';
      g.fillText(m ? '−' + m + ' min' : 'now', L + pw * (1 - m / 15), T + ph + 6);
    }
    const line = (key, color) => {
      g.strokeStyle = color; g.lineWidth = 2; g.beginPath();
      s.forEach((p, i) => {
        const x = L + (pw * (p.t - t0)) / WINDOW_MS, y = T + ph - (ph * p[key]) / max;
        if (i) g.lineTo(x, y); else g.moveTo(x, y);
      });
      g.stroke();
    };
    if (s.length) { line('d', col('--accent')); line('u', col('--up')); }
    const last = s[s.length - 1];
    c.setAttribute('aria-label', 'Speed over the last 15 minutes' + (last ? ': now ' + fmtRate(last.d) + ' down, ' + fmtRate(last.u) + ' up' : ''));
  }
  window.addEventListener('resize', drawGraph);

  /* ---------------------------------------------------------- torrents -- */
  function fileRow(t, f) {
    const play = el('a', { href: '#/play/' + t.info_hash + '/' + f.index, class: 'button-link', text: 'Play' });
    const li = el('li', { 'data-index': String(f.index) },
      el('div', { class: 'path', text: f.path }),
      el('div', { class: 'meta' }, el('span', { class: 'fsize' }), el('span', { class: 'fmedia' }), el('span', { class: 'fbadges' })),
      el('div', { class: 'inline wrap' },
        el('button', { type: 'button', class: 'small', text: 'Play', onclick: () => { location.hash = play.getAttribute('href'); } }),
        el('button', { type: 'button', class: 'small', text: 'Copy stream URL', onclick: () => copyText(f.stream_url, 'Stream URL') }),
        el('button', { type: 'button', class: 'small', text: 'Copy HLS link', onclick: () => copyText(f.hls_url, 'HLS link') }),
        el('button', { type: 'button', class: 'small', text: 'M3U', title: 'download an M3U playlist',
          onclick: () => download(f.path.split('/').pop().replace(/\.[^.]*$/, '') + '.m3u', m3u(t, [f]), 'audio/x-mpegurl') })));
    return li;
  }
  function updateFileRow(li, f) {
    setText($('.fsize', li), fmtBytes(f.size) + ' · ' + pct(f.downloaded, f.size).toFixed(0) + ' % on disk');
    setText($('.fmedia', li), mediaSummary(f.media));
    const b = $('.fbadges', li);
    const key = JSON.stringify(qualityBadges(f.media));
    if (b.dataset.k !== key) {
      b.dataset.k = key;
      b.replaceChildren(...qualityBadges(f.media).map(([x, c]) => badge(x, c)));
    }
  }

  function torrentItem(t) {
    const bar = el('span');
    const li = el('li', { 'data-hash': t.info_hash },
      el('div', { class: 'item-h' }, el('span', { class: 'title' }), el('span', { class: 'badge tstate' }),
        el('span', { class: 'badge prio', text: 'priority', title: 'a media server reports it playing' })),
      el('div', { class: 'progress', role: 'progressbar', 'aria-valuemin': '0', 'aria-valuemax': '100', 'aria-label': 'downloaded' }, bar),
      el('div', { class: 'meta' }, el('span', { class: 'tsize' }), el('span', { class: 'trate' }), el('span', { class: 'tpeers' }),
        el('span', { class: 'terr' })),
      el('div', { class: 'inline wrap' },
        el('button', { type: 'button', class: 'small', text: 'M3U playlist', onclick: () => copyM3u(t.info_hash) }),
        el('button', { type: 'button', class: 'small danger', text: 'Remove', onclick: () => removeTorrent(t.info_hash) })),
      el('details', {}, el('summary', { class: 'fsum' }), el('ul', { class: 'files' })));
    return li;
  }
  function updateTorrentItem(li, t) {
    setText($('.title', li), torrentTitle(t));
    const sb = $('.tstate', li);
    setText(sb, t.state);
    sb.className = 'badge tstate state-' + t.state;
    $('.prio', li).hidden = !t.playing;
    const p = pct(t.downloaded, t.size);
    $('.progress > span', li).style.width = p + '%';
    $('.progress', li).setAttribute('aria-valuenow', p.toFixed(0));
    setText($('.tsize', li), t.has_metadata ? fmtBytes(t.downloaded) + ' of ' + fmtBytes(t.size) + ' (' + p.toFixed(0) + ' %)' : 'waiting for metadata');
    setText($('.trate', li), '↓ ' + fmtRate(t.download_rate) + '  ↑ ' + fmtRate(t.upload_rate));
    setText($('.tpeers', li), t.peers + ' peers / ' + t.seeds + ' seeds');
    setText($('.terr', li), t.error ? 'error: ' + t.error : '');
    const files = t.files || [];
    const det = $('details', li);
    setText($('.fsum', li), files.length ? 'Files (' + files.length + ')' : 'No files yet');
    const ul = $('.files', li);
    if (ul.children.length !== files.length) {
      ul.replaceChildren(...files.map((f) => fileRow(t, f)));
      if (files.length && files.length <= 3 && !det.dataset.touched) det.open = true;
    }
    files.forEach((f, i) => updateFileRow(ul.children[i], f));
  }
  function renderTorrents(ul, list) {
    if (!list.length) {
      if (!ul.querySelector('.empty')) ul.replaceChildren(el('li', { class: 'empty', text: 'No torrents yet: add one above.' }));
      return;
    }
    const empty = ul.querySelector('.empty');
    if (empty) empty.remove();
    const seen = new Set();
    let prev = null;
    for (const t of list) {
      seen.add(t.info_hash);
      let li = ul.querySelector('li[data-hash="' + t.info_hash + '"]');
      if (!li) {
        li = torrentItem(t);
        $('details', li).addEventListener('toggle', () => { $('details', li).dataset.touched = '1'; });
      }
      const want = prev ? prev.nextSibling : ul.firstChild;
      if (want !== li) ul.insertBefore(li, want);
      updateTorrentItem(li, t);
      prev = li;
    }
    for (const li of $$(':scope > li[data-hash]', ul)) if (!seen.has(li.dataset.hash)) li.remove();
  }
  async function refreshTorrents() {
    state.torrents = (await api('GET', '/torrents')).torrents || [];
    renderAll();
  }
  async function copyM3u(hash) {
    const t = state.torrents.find((x) => x.info_hash === hash);
    if (!t || !(t.files || []).length) { toast('No files yet (waiting for metadata)', true); return; }
    download(torrentTitle(t).replace(/[\\/:*?"<>|]/g, '_') + '.m3u', m3u(t, t.files), 'audio/x-mpegurl');
  }
  async function removeTorrent(hash) {
    const t = state.torrents.find((x) => x.info_hash === hash);
    const r = await confirmBox('Remove “' + (t ? torrentTitle(t) : hash) + '”?', 'Remove',
      { label: 'Also delete its downloaded data', checked: true });
    if (!r.ok) return;
    try {
      await api('DELETE', '/torrents/' + hash + (r.checked ? '' : '?delete_data=false'));
      toast('Removed');
      await refreshTorrents();
      $('#add-link').focus();
    } catch (e) { toast('Remove failed: ' + e.message, true); }
  }

  const linkOk = (s) => /^magnet:\?/i.test(s) || /^[0-9a-f]{40}$/i.test(s) || /^[a-z2-7]{32}$/i.test(s) || /^https?:\/\/\S+$/i.test(s);
  $('#add-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const link = $('#add-link'), file = $('#add-file'), title = $('#add-title'), err = $('#add-error');
    const btn = $('#add-btn');
    err.textContent = '';
    link.removeAttribute('aria-invalid');
    const lv = link.value.trim(), tv = title.value.trim();
    const f = file.files && file.files[0];
    if (!f && !lv) { err.textContent = 'Give a magnet link, an info hash, a .torrent URL or a .torrent file.'; link.setAttribute('aria-invalid', 'true'); link.focus(); return; }
    if (!f && !linkOk(lv)) { err.textContent = 'That is not a magnet link, a 40-hex/32-base32 info hash or an http(s) URL.'; link.setAttribute('aria-invalid', 'true'); link.focus(); return; }
    btn.disabled = true;
    try {
      let t;
      if (f) {
        const fd = new FormData();
        fd.append('torrent', f, f.name);
        if (tv) fd.append('title', tv);
        t = await api('POST', '/torrents', fd);
      } else {
        t = await api('POST', '/torrents', tv ? { link: lv, title: tv } : { link: lv });
      }
      toast('Added ' + torrentTitle(t));
      $('#add-form').reset();
      await refreshTorrents();
    } catch (e) {
      if (!(e instanceof ApiError && e.status === 401)) { err.textContent = e.message; link.focus(); }
    } finally { btn.disabled = false; }
  });

  /* ---------------------------------------------------------- settings -- */
  async function loadSettings() {
    $('#key-show').value = apiKey;
    try {
      const [s, hooks] = await Promise.all([api('GET', '/settings'), api('GET', '/webhooks').catch((e) => ({ error: e.message }))]);
      state.settings = s;
      $('#hook-url').value = hooks.url || '';
      setText($('#hook-note'), hooks.error ? 'Webhooks: ' + hooks.error : '');
      renderSettings(s);
    } catch (e) {
      if (!(e instanceof ApiError && e.status === 401)) setText($('#set-status'), 'Cannot load the settings: ' + e.message);
    }
  }

  function settingInput(s) {
    const id = 'set-' + s.key;
    const common = { id, name: s.key, 'aria-describedby': id + '-help ' + id + '-err', disabled: !s.editable };
    let input;
    const shown = s.saved !== undefined && s.pending ? s.saved : s.value;
    if (s.type === 'bool') {
      input = el('input', Object.assign({ type: 'checkbox', checked: !!shown }, common));
    } else if (s.choices) {
      input = el('select', common, ...s.choices.map((c) => el('option', { value: c, text: c, selected: c === shown })));
    } else if (s.type === 'int') {
      input = el('input', Object.assign({ type: 'number', step: '1', min: String(s.min), max: String(s.max), value: String(shown), inputmode: 'numeric' }, common));
    } else if (s.secret) {
      input = el('input', Object.assign({ type: 'password', value: '', autocomplete: 'off', spellcheck: 'false',
        placeholder: shown === '********' ? 'set — type to replace' : 'not set', maxlength: String(s.max_length || 1024) }, common));
    } else {
      input = el('input', Object.assign({ type: 'text', value: String(shown), spellcheck: 'false', autocomplete: 'off',
        maxlength: s.max_length ? String(s.max_length) : undefined, required: s.min_length > 0 }, common));
    }
    input.dataset.orig = s.type === 'bool' ? String(!!shown) : s.secret ? '' : String(shown);
    return input;
  }

  function renderSettings(data) {
    const box = $('#settings');
    const groups = new Map();
    for (const s of data.settings) {
      if (!groups.has(s.group)) groups.set(s.group, []);
      groups.get(s.group).push(s);
    }
    box.replaceChildren(...Array.from(groups, ([g, list]) => el('fieldset', { 'data-group': g }, el('legend', { text: g }),
      ...list.map((s) => {
        const tags = [];
        tags.push(s.live ? badge('live', 'live', 'applied at once') : badge('restart', 'restart', 'takes effect after a restart'));
        if (s.locked) tags.push(badge(s.origin === 'env' ? 'set by environment' : 'set by flag', 'lock', 'change it where it is set'));
        else if (s.origin === 'file') tags.push(badge('config file', ''));
        else if (s.origin === 'saved') tags.push(badge('saved here', ''));
        if (s.pending) tags.push(badge('restart needed', 'restart', 'saved; the running daemon still uses ' + JSON.stringify(s.value)));
        const input = settingInput(s);
        const labelKids = [el('span', { class: 'name', text: s.key })];
        const row = el('div', { class: 'setting', 'data-key': s.key, 'data-search': (s.key + ' ' + s.help).toLowerCase() },
          el('div', {},
            s.type === 'bool' ? el('label', { class: 'check', for: 'set-' + s.key }, input, ...labelKids)
              : el('label', { for: 'set-' + s.key }, ...labelKids),
            el('div', { class: 'tags' }, ...tags)),
          el('div', {}, s.type === 'bool' ? null : input,
            el('p', { class: 'hint', id: 'set-' + s.key + '-help', text: s.help + ' (default ' + JSON.stringify(s.default) + ')' }),
            el('p', { class: 'err', id: 'set-' + s.key + '-err', role: 'alert' })));
        return row;
      }))));
    applyFilter();
    markRestart(data.restart_needed);
  }
  function markRestart(needed) {
    const b = $('#restart');
    b.classList.toggle('primary', !!needed);
    setText($('#restart-note'), needed ? 'Some saved settings take effect after a restart.' : 'Settings marked “restart” take effect after a restart.');
  }
  function applyFilter() {
    const q = $('#set-filter').value.trim().toLowerCase();
    for (const row of $$('#settings .setting')) row.hidden = !!q && !row.dataset.search.includes(q);
    for (const fs of $$('#settings fieldset')) fs.hidden = !$$('.setting', fs).some((r) => !r.hidden);
  }
  $('#set-filter').addEventListener('input', applyFilter);
  $('#settings').addEventListener('input', (ev) => {
    const row = ev.target.closest('.setting');
    if (!row) return;
    row.classList.toggle('changed', currentValue(ev.target) !== ev.target.dataset.orig);
    ev.target.removeAttribute('aria-invalid');
    setText($('.err', row), '');
    if (!$('#settings [aria-invalid="true"]')) setText($('#set-status'), '');
  });
  const currentValue = (i) => (i.type === 'checkbox' ? String(i.checked) : i.value);

  $('#settings-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const status = $('#set-status');
    const changes = {};
    let firstBad = null;
    for (const i of $$('#settings input, #settings select')) {
      if (i.disabled || currentValue(i) === i.dataset.orig) continue;
      const s = state.settings.settings.find((x) => x.key === i.name);
      const row = i.closest('.setting');
      let v;
      let bad = '';
      if (s.type === 'bool') v = i.checked;
      else if (s.type === 'int') {
        if (!/^-?\d+$/.test(i.value.trim())) bad = 'must be a whole number';
        else {
          v = Number(i.value.trim());
          if (v < s.min || v > s.max) bad = 'must be between ' + s.min + ' and ' + s.max;
        }
      } else {
        v = i.value;
        if (s.min_length && v.length < s.min_length) bad = 'must not be empty';
        if (s.max_length !== undefined && v.length > s.max_length) bad = 'must be at most ' + s.max_length + ' characters';
      }
      if (bad) {
        i.setAttribute('aria-invalid', 'true');
        setText($('.err', row), bad);
        firstBad = firstBad || i;
      } else changes[s.key] = v;
    }
    if (firstBad) { setText(status, 'Fix the fields marked in red.'); firstBad.focus(); return; }
    if (!Object.keys(changes).length) { setText(status, 'Nothing changed.'); return; }
    try {
      const r = await api('PUT', '/settings', changes);
      const msg = (r.applied.length ? 'Applied now: ' + r.applied.join(', ') + '. ' : '') +
        (r.restart_required_for.length ? 'After a restart: ' + r.restart_required_for.join(', ') + '.' : '');
      setText(status, msg);
      toast('Settings saved');
      await loadSettings();
      setText(status, msg);
    } catch (e) {
      if (e instanceof ApiError && e.body && e.body.errors) {
        let first = null;
        for (const [k, m] of Object.entries(e.body.errors)) {
          const i = document.getElementById('set-' + k);
          if (!i) continue;
          i.setAttribute('aria-invalid', 'true');
          setText($('.err', i.closest('.setting')), m);
          first = first || i;
        }
        setText(status, 'Not saved: ' + e.message);
        if (first) first.focus();
      } else if (!(e instanceof ApiError && e.status === 401)) setText(status, 'Not saved: ' + e.message);
    }
  });

  $('#key-reveal').addEventListener('click', (ev) => {
    const i = $('#key-show');
    const show = i.type === 'password';
    i.type = show ? 'text' : 'password';
    ev.currentTarget.textContent = show ? 'Hide' : 'Show';
    ev.currentTarget.setAttribute('aria-pressed', String(show));
  });
  $('#key-copy').addEventListener('click', () => copyText(apiKey, 'API key'));
  $('#hook-copy').addEventListener('click', () => copyText($('#hook-url').value, 'Webhook URL'));
  $('#key-regen').addEventListener('click', async () => {
    const r = await confirmBox('Make a new API key? The current key stops working at once: players and scripts using it must be given the new one.', 'Regenerate');
    if (!r.ok) return;
    try {
      const j = await api('POST', '/key/regenerate');
      apiKey = j.api_key;
      sessionStorage.setItem(KEY_STORE, apiKey);
      const i = $('#key-show');
      i.value = apiKey;
      i.type = 'text';
      $('#key-reveal').textContent = 'Hide';
      toast(j.persistent ? 'New API key in use.' : 'New API key in use until restart: the environment or a flag sets api_key.');
    } catch (e) { toast(e.message, true); }
  });
  $('#hook-regen').addEventListener('click', async () => {
    const r = await confirmBox('Make a new webhook token? Media servers must be given the new URL; the old one stops working at once.', 'Regenerate');
    if (!r.ok) return;
    try {
      const j = await api('POST', '/webhooks/regenerate');
      $('#hook-url').value = j.url;
      setText($('#hook-note'), j.restart_needed ? 'The new URL works after a restart.' : 'The new URL is in use; give it to your media servers.');
      if (j.restart_needed) markRestart(true);
    } catch (e) { toast(e.message, true); }
  });
  $('#restart').addEventListener('click', async () => {
    const r = await confirmBox('Restart reelgate now? Streams in progress are interrupted.', 'Restart');
    if (!r.ok) return;
    try {
      const before = state.status ? state.status.uptime_s : null;
      await api('POST', '/restart');
      toast('Restarting…');
      const t0 = Date.now();
      const wait = async () => {
        if (Date.now() - t0 > 60000) { toast('reelgate did not come back within 60 s', true); return; }
        try {
          const st = await api('GET', '/status');
          if (before === null || st.uptime_s < before || Date.now() - t0 > 3000) {
            toast('reelgate restarted');
            if (current === 'settings') loadSettings();
            return;
          }
        } catch (e) { /* not back yet */ }
        setTimeout(wait, 1000);
      };
      setTimeout(wait, 1500);
    } catch (e) { toast(e.message, true); }
  });

  /* ------------------------------------------------------------ player -- */
  let hls = null;
  let hlsLoading = null;
  function loadHlsJs() {
    if (window.Hls) return Promise.resolve(window.Hls);
    if (!hlsLoading) {
      hlsLoading = new Promise((resolve, reject) => {
        const s = el('script', { src: '/hls.min.js' });
        s.onload = () => (window.Hls ? resolve(window.Hls) : reject(new Error('hls.js did not load')));
        s.onerror = () => reject(new Error('hls.js is not in this build'));
        document.head.append(s);
      });
    }
    return hlsLoading;
  }
  function stopPlayer() {
    if (hls) { hls.destroy(); hls = null; }
    const v = $('#video');
    v.pause();
    v.removeAttribute('src');
    v.load();
  }
  function playStatus(msg) { setText($('#play-status'), msg); }

  function playDirect(f, why) {
    if (hls) { hls.destroy(); hls = null; }
    const v = $('#video');
    v.src = f.stream_url;
    v.dataset.mode = 'direct';
    playStatus('Playing the file directly (' + why + '); the browser must support its format.');
    v.play().catch(() => {});
  }

  async function playHls(t, f, sys) {
    const v = $('#video');
    const src = f.hls_url;
    const HlsLib = sys.hls_js ? await loadHlsJs().catch(() => null) : null;
    if (HlsLib && HlsLib.isSupported()) {
      hls = new HlsLib({ maxBufferLength: 20 });
      let recovered = false;
      hls.on(HlsLib.Events.ERROR, (e, d) => {
        if (!d.fatal) return;
        if (d.type === HlsLib.ErrorTypes.MEDIA_ERROR && !recovered) { recovered = true; hls.recoverMediaError(); return; }
        playDirect(f, 'HLS failed: ' + d.details);
      });
      hls.on(HlsLib.Events.MANIFEST_PARSED, () => v.play().catch(() => {}));
      hls.loadSource(src);
      hls.attachMedia(v);
      v.dataset.mode = 'hls.js';
      playStatus('Playing through HLS (hls.js ' + (HlsLib.version || '') + ').');
      return true;
    }
    if (v.canPlayType('application/vnd.apple.mpegurl')) {
      v.src = src;
      v.dataset.mode = 'native-hls';
      playStatus('Playing through HLS (native).');
      v.play().catch(() => {});
      return true;
    }
    return false;
  }

  async function startPlayer(hash, index) {
    stopPlayer();
    const links = $('#play-links');
    links.replaceChildren();
    playStatus('Loading…');
    if (!/^[0-9a-f]{40}$/i.test(hash || '')) { playStatus('No such title.'); return; }
    try {
      const [t, sys] = await Promise.all([api('GET', '/torrents/' + hash), state.system ? state.system : api('GET', '/system')]);
      state.system = sys;
      const f = (t.files || []).find((x) => x.index === index);
      setText($('#play-h'), torrentTitle(t) + (t.files && t.files.length > 1 && f ? ' — ' + f.path.split('/').pop() : ''));
      document.title = 'reelgate — ' + torrentTitle(t);
      if (!f) { playStatus(t.has_metadata ? 'This torrent has no file ' + index + '.' : 'Waiting for the torrent\'s metadata…'); return; }
      links.append(
        el('button', { type: 'button', text: 'Copy stream URL', onclick: () => copyText(f.stream_url, 'Stream URL') }),
        el('button', { type: 'button', text: 'Copy HLS link', onclick: () => copyText(f.hls_url, 'HLS link') }),
        el('button', { type: 'button', text: 'Play the file directly', onclick: () => playDirect(f, 'chosen') }),
        el('button', { type: 'button', text: 'Play through HLS', onclick: async () => { stopPlayer(); if (!(await playHls(t, f, sys))) playDirect(f, 'no HLS player in this browser'); } }),
        ...qualityBadges(f.media).map(([b, c]) => badge(b, c)),
        el('span', { class: 'hint', text: mediaSummary(f.media) }));
      if (current !== 'play') return;
      if (!sys.hls || !(await playHls(t, f, sys))) playDirect(f, sys.hls ? 'no HLS player in this browser' : 'HLS is off in this daemon');
    } catch (e) {
      if (!(e instanceof ApiError && e.status === 401)) playStatus('Cannot play: ' + e.message);
    }
  }
  $('#video').addEventListener('error', () => {
    const v = $('#video');
    if (v.dataset.mode === 'direct' && v.error) playStatus('The browser cannot play this file directly (' + (v.error.message || 'code ' + v.error.code) + ').');
  });

  /* -------------------------------------------------------------- start -- */
  route();
  if (apiKey) poll();
})();
