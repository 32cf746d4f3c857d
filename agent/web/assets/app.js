// ferry agent status page: refreshes the server-rendered cards from
// /api/jobs every two seconds, and sends "run now". The words are made
// as page.go makes them; keep the two alike.
'use strict';
(function () {
  const csrf = document.querySelector('meta[name="ferry-csrf"]').content;
  const main = document.getElementById('jobs');
  const tpl = document.getElementById('job-template');
  const live = document.getElementById('live');
  const updated = document.getElementById('updated');
  const count = document.getElementById('count');
  const every = 2000;

  function humanBytes(n) {
    const unit = 1024;
    if (n < unit) return n + ' B';
    let div = unit, exp = 0;
    for (let m = Math.floor(n / unit); m >= unit; m = Math.floor(m / unit)) { div *= unit; exp++; }
    return (n / div).toFixed(1) + ' ' + 'KMGTPE'[exp] + 'iB';
  }
  function duration(s) {
    if (s < 1) return Math.round(s * 1000) + ' ms';
    if (s < 60) return s.toFixed(1) + ' s';
    if (s < 3600) return Math.floor(s / 60) + ' min ' + (Math.floor(s) % 60) + ' s';
    return Math.floor(s / 3600) + ' h ' + Math.floor((Math.floor(s) % 3600) / 60) + ' min';
  }
  function coarse(s) {
    if (s < 60) return Math.floor(s) + ' s';
    if (s < 3600) return Math.floor(s / 60) + ' min';
    if (s < 86400) return Math.floor(s / 3600) + ' h ' + Math.floor((Math.floor(s) % 3600) / 60) + ' min';
    return Math.floor(s / 86400) + ' d';
  }
  const pad = (n) => String(n).padStart(2, '0');
  function stamp(iso) {
    const t = new Date(iso);
    return t.getFullYear() + '-' + pad(t.getMonth() + 1) + '-' + pad(t.getDate()) + ' ' +
      pad(t.getHours()) + ':' + pad(t.getMinutes()) + ':' + pad(t.getSeconds());
  }
  function when(iso, now) {
    const d = (new Date(iso) - now) / 1000;
    let rel = 'now';
    if (d >= 1) rel = 'in ' + coarse(d);
    else if (d <= -1) rel = coarse(-d) + ' ago';
    return stamp(iso) + ' (' + rel + ')';
  }
  function stateKind(j) {
    if (j.running) return 'running';
    if (j.problem) {
      const kind = j.problem.split(':')[0];
      return ['paused', 'failing', 'refused'].includes(kind) ? kind : 'problem';
    }
    return 'idle';
  }
  function stateText(j, now) {
    if (j.running) return 'running (' + j.running.trigger + ') for ' + coarse(Math.max((now - new Date(j.running.started)) / 1000, 0));
    return stateKind(j);
  }
  function triggersText(j) {
    const parts = [];
    if (!j.watch || j.watch === 'off') parts.push('not watching');
    else if (j.watch === 'degraded') parts.push('watching degraded: ' + (j.watch_why || '') + ' (full runs instead)');
    else parts.push('watching: ' + j.watch);
    parts.push(j.schedule ? 'schedule ' + j.schedule : 'no schedule');
    if (j.queued && j.queued.length) parts.push('waiting: ' + j.queued.join(', '));
    return parts.join(' · ');
  }
  function nextText(j, now) {
    const parts = [];
    if (j.retry_at) parts.push('retry ' + when(j.retry_at, now));
    if (j.next_run) parts.push(when(j.next_run, now));
    if (!parts.length) return j.watch && j.watch !== 'off' ? 'on the next change' : 'none planned';
    return parts.join(' · ');
  }
  function lastText(j, now) {
    const r = j.last_run;
    if (!r) return 'none yet';
    return when(r.started, now) + ' · ' + duration(r.duration_seconds) + ' · ' + r.trigger + ' · ' + r.result +
      ' — up ' + r.files_up + ' (' + humanBytes(r.bytes_up) + '), down ' + r.files_down + ' (' + humanBytes(r.bytes_down) +
      '), ' + r.files_deleted + ' deleted, ' + r.conflicts + ' conflicts kept, ' + r.errors + ' errors';
  }
  function percent(t) {
    if (t.size <= 0) return 0;
    return Math.min(Math.max(Math.floor(t.bytes * 100 / t.size), 0), 100);
  }
  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function fill(card, j, now) {
    const f = (name) => card.querySelector('[data-f="' + name + '"]');
    const set = (name, text) => { const e = f(name); if (e.textContent !== text) e.textContent = text; };
    card.dataset.job = j.job;
    card.dataset.state = stateKind(j);
    card.querySelector('button.run').dataset.run = j.job;
    set('name', j.job);
    set('mode', j.mode);
    set('state', stateText(j, now));
    set('local', j.local);
    set('remote', j.remote);
    set('triggers', triggersText(j));
    set('next', nextText(j, now));
    set('last', lastText(j, now));
    set('runs', String(j.runs));
    set('problem', j.problem || '');
    f('problem').hidden = f('problem-label').hidden = !j.problem;
    const conflicts = j.last_run ? j.last_run.conflicts : 0;
    set('conflicts', conflicts + ' conflicts kept in the last run: both versions are there, the older under a .conflict- name');
    f('conflicts').hidden = !conflicts;

    // Lists are rebuilt only when they changed: a stable page keeps a
    // selection, and a button under the pointer stays where it is.
    const changed = (e, list) => {
      const key = JSON.stringify(list);
      if (e.dataset.key === key) return false;
      e.dataset.key = key;
      return true;
    };
    const ts = f('transfers');
    if (changed(ts, j.transfers)) ts.replaceChildren(...j.transfers.map((t) => {
      const li = el('li');
      const p = el('progress');
      p.max = 100;
      p.value = percent(t);
      p.textContent = percent(t) + '%';
      li.append(el('span', 'op', t.op), ' ', el('span', 'path', t.path), p,
        el('span', 'amount', percent(t) + '% of ' + humanBytes(t.size)));
      return li;
    }));
    f('transfers-box').hidden = !j.transfers.length;

    const es = f('errors');
    if (changed(es, j.errors)) es.replaceChildren(...j.errors.slice().reverse().map((e) => {
      const li = el('li');
      const tm = el('time', '', stamp(e.at));
      tm.dateTime = e.at;
      li.append(tm, ' ', el('span', 'text', e.text));
      return li;
    }));
    f('errors-box').hidden = !j.errors.length;
  }

  function render(data) {
    const now = new Date(data.now);
    const seen = new Set();
    let prev = null;
    for (const j of data.jobs) {
      seen.add(j.job);
      let card = main.querySelector('article.job[data-job="' + CSS.escape(j.job) + '"]');
      if (!card) card = tpl.content.firstElementChild.cloneNode(true);
      fill(card, j, now);
      // In the server's order, moving a card only when it is out of place.
      const want = prev ? prev.nextElementSibling : main.firstElementChild;
      if (card !== want) main.insertBefore(card, want);
      prev = card;
    }
    for (const card of main.querySelectorAll('article.job')) {
      if (!seen.has(card.dataset.job)) card.remove();
    }
    count.textContent = data.jobs.length + ' jobs';
    updated.textContent = stamp(data.now);
    updated.dateTime = data.now;
  }

  function setLive(ok, why) {
    live.classList.toggle('lost', !ok);
    live.title = ok ? '' : 'cannot reach the agent: ' + why;
    if (!ok) updated.textContent = updated.textContent.replace(/ \(.*$/, '') + ' (agent unreachable)';
  }

  let busy = false;
  async function refresh() {
    if (busy) return;
    busy = true;
    try {
      const r = await fetch('/api/jobs', { cache: 'no-store', credentials: 'same-origin' });
      if (r.status === 401) { location.reload(); return; }
      if (!r.ok) throw new Error('HTTP ' + r.status);
      render(await r.json());
      setLive(true);
    } catch (e) {
      setLive(false, e.message);
    } finally {
      busy = false;
    }
  }

  function note(card, text, bad) {
    const n = card.querySelector('[data-f="note"]');
    n.textContent = text;
    n.classList.toggle('bad', !!bad);
    n.hidden = false;
    clearTimeout(n._t);
    n._t = setTimeout(() => { n.hidden = true; }, 5000);
  }

  async function runNow(button) {
    const card = button.closest('article.job');
    const name = button.dataset.run;
    button.disabled = true;
    try {
      const r = await fetch('/api/jobs/' + encodeURIComponent(name) + '/run', {
        method: 'POST', credentials: 'same-origin', headers: { 'X-Ferry-CSRF': csrf },
      });
      if (r.status === 401) { location.reload(); return; }
      let body = {};
      try { body = await r.json(); } catch (e) { /* not JSON */ }
      if (r.ok) note(card, 'Run asked for.');
      else note(card, 'Refused: ' + (body.error || 'HTTP ' + r.status), true);
    } catch (e) {
      note(card, 'Cannot reach the agent: ' + e.message, true);
    } finally {
      button.disabled = false;
      refresh();
    }
  }

  main.addEventListener('click', (e) => {
    const b = e.target.closest('button.run');
    if (b) runNow(b);
  });
  document.addEventListener('visibilitychange', () => { if (!document.hidden) refresh(); });
  setInterval(() => { if (!document.hidden) refresh(); }, every);
  refresh();
  document.body.dataset.ready = 'true'; // the buttons work from here on
})();
