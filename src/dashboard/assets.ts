/**
 * The page's stylesheet and its one script, served from `/assets/` (no build step). The script polls the JSON API
 * while the tab is visible and updates the page in place, building elements with `textContent` only: a value from
 * the database never becomes markup on this side either.
 */

export const STYLESHEET = String.raw`
:root { font-family: system-ui, sans-serif; font-size: 15px; color: #1d2330; background: #f6f7f9; }
header { display: flex; gap: 1.2em; align-items: center; padding: .6em 1.2em; background: #1d2330; color: #fff; }
header a { color: #cdd6e6; text-decoration: none; margin-right: 1em; }
header a[aria-current=page] { color: #fff; font-weight: 600; border-bottom: 2px solid #7fb3ff; }
header .who { margin-left: auto; color: #ffd27f; }
main { padding: 1em 1.5em; max-width: 1200px; }
h1 small { color: #667; font-weight: normal; }
table { border-collapse: collapse; background: #fff; margin: .5em 0 1em; }
th, td { border: 1px solid #dde1e8; padding: .3em .6em; text-align: left; vertical-align: top; }
th { background: #eef1f5; font-weight: 600; }
tr.flagged { background: #fff4e0; }
.muted { color: #778; }
.warn { color: #a15c00; font-weight: 600; }
.ok { color: #16794a; }
.bad { color: #b3261e; }
.status { display: inline-block; padding: 0 .5em; border-radius: 1em; font-size: .85em; background: #e4e7ee; }
.s-done { background: #d5f2e1; } .s-error { background: #f9d6d3; } .s-in_progress { background: #d8e6ff; }
.s-need_retry { background: #ffe9c7; } .s-canceled { background: #e6e0f5; }
.flash { padding: .5em .8em; border-radius: 4px; background: #e5f5ec; border: 1px solid #9fd6b5; }
.flash.bad { background: #fbe7e5; border-color: #e7a39c; color: #7a1c15; }
form.inline { display: inline; }
form.filter label { margin-right: 1em; }
button { padding: .3em .9em; cursor: pointer; }
button.danger { color: #b3261e; }
pre { margin: 0; white-space: pre-wrap; word-break: break-word; }
pre.payload { background: #fff; border: 1px solid #dde1e8; padding: .6em; max-height: 40em; overflow: auto; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: .2em 1em; }
dl.facts dt { color: #667; }
.chart svg { background: #fff; border: 1px solid #dde1e8; }
.chart .axis { stroke: #ccd; }
.line-done { stroke: #16794a; stroke-width: 2; }
.line-error { stroke: #b3261e; stroke-width: 2; }
.done-key { color: #16794a; } .error-key { color: #b3261e; }
.pager a { margin-right: 1em; }
[hidden] { display: none !important; }
.progress { display: flex; gap: .8em; align-items: center; }
.progress progress { width: 22em; height: 1.1em; }
.summary { background: #fff; border-left: 3px solid #7fb3ff; padding: .4em .8em; }
pre.warn { color: #a15c00; }
form.job { background: #fff; border: 1px solid #dde1e8; padding: .6em 1em; margin: .5em 0 1em; }
form.job .field { margin: .4em 0; }
form.job .field label { display: inline-block; min-width: 10em; font-weight: 600; }
form.job .help { color: #667; margin-left: .5em; }
.required { color: #b3261e; }
.cron-OK { color: #16794a; } .cron-FAILURE { color: #b3261e; font-weight: 600; } .cron-WARN { color: #a15c00; } .cron-NOTRUN { color: #778; } .cron-RUNNING { color: #1f5fbf; }
tr.disabled td { color: #889; }
`;

export const CLIENT_SCRIPT = String.raw`'use strict';
(function () {
  var root = document.querySelector('[data-poll]');
  if (!root) return;
  var kind = root.getAttribute('data-poll');
  var STATUSES = ['pending', 'in_progress', 'need_retry', 'done', 'error', 'canceled'];

  function el(tag, text, cls) {
    var e = document.createElement(tag);
    if (text !== undefined && text !== null) e.textContent = String(text);
    if (cls) e.className = cls;
    return e;
  }
  function byId(id) { return document.getElementById(id); }
  function relative(deltaMs) {
    var a = Math.abs(deltaMs);
    if (a < 1000) return 'now';
    var t = a < 60000 ? Math.round(a / 1000) + ' s' : a < 3600000 ? Math.round(a / 60000) + ' min' : Math.round(a / 3600000) + ' h';
    return deltaMs < 0 ? t + ' ago' : 'in ' + t;
  }
  function points(values, max) {
    var w = 600, h = 120, step = values.length > 1 ? w / (values.length - 1) : 0;
    return values.map(function (v, i) {
      return Math.round(i * step * 10) / 10 + ',' + Math.round((h - (max > 0 ? v / max * h : 0)) * 10) / 10;
    }).join(' ');
  }

  function showOverview(o) {
    STATUSES.forEach(function (s) {
      var cell = document.querySelector('[data-count="' + s + '"]');
      if (cell) cell.textContent = String(o.counts[s] || 0);
    });
    byId('count-total').textContent = String(o.total);
    byId('counted-age').textContent = relative(-o.ageMs);
    byId('read-ms').textContent = String(o.readMs);
    byId('oldest-due').textContent = o.oldestDueAt ? o.oldestDueAt.replace('T', ' ').replace(/\.\d+Z$/, ' UTC') : 'nothing waiting';
    var body = byId('types-body');
    var rows = o.types.map(function (t) {
      var tr = el('tr', null, t.noHandler ? 'flagged' : '');
      var td = el('td');
      var a = el('a', t.type);
      a.href = '/items?type=' + encodeURIComponent(t.type);
      td.appendChild(a);
      tr.appendChild(td);
      STATUSES.forEach(function (s) { tr.appendChild(el('td', t.counts[s] || 0)); });
      var h = el('td');
      if (t.noHandler) h.appendChild(el('span', 'no live worker takes this type', 'warn'));
      else h.textContent = t.handlers.join(', ');
      tr.appendChild(h);
      return tr;
    });
    body.replaceChildren.apply(body, rows);
    var empty = byId('types-empty');
    if (empty && rows.length) empty.remove();
    else if (empty) empty.textContent = 'No items yet.';
    var iv = o.throughput.intervals;
    var max = 1;
    iv.forEach(function (i) { max = Math.max(max, i.done, i.error); });
    byId('chart-done').setAttribute('points', points(iv.map(function (i) { return i.done; }), max));
    byId('chart-error').setAttribute('points', points(iv.map(function (i) { return i.error; }), max));
    byId('chart-max').textContent = String(max);
    var last = iv.length > 1 ? iv[iv.length - 2] : { done: 0, error: 0 };
    var secs = o.throughput.bucketMs / 1000;
    byId('rate-done').textContent = String(Math.round(last.done / secs * 10) / 10);
    byId('rate-error').textContent = String(Math.round(last.error / secs * 10) / 10);
  }

  function showWorkers(v) {
    var body = byId('workers-body');
    var rows = v.workers.map(function (w) {
      var tr = el('tr', null, w.silent ? 'flagged' : '');
      tr.appendChild(el('td', w.host));
      tr.appendChild(el('td', w.pid));
      var hs = el('td');
      Object.keys(w.takes).forEach(function (name) {
        var d = el('div', name + ' ');
        var types = w.takes[name];
        d.appendChild(el('span', '(' + (types === '*' ? 'every type' : types.join(', ')) + ')', 'muted'));
        hs.appendChild(d);
      });
      tr.appendChild(hs);
      tr.appendChild(el('td', w.startedAt.replace('T', ' ').replace(/\.\d+Z$/, ' UTC')));
      var seen = el('td', w.seenAt.replace('T', ' ').replace(/\.\d+Z$/, ' UTC') + ' (' + relative(Date.parse(w.seenAt) - Date.now()) + ') ');
      if (w.silent) seen.appendChild(el('span', 'silent', 'warn'));
      tr.appendChild(seen);
      var held = el('td', String(w.held));
      if (w.held > 0) {
        held.textContent = w.held + ' (first ';
        var a = el('a', w.firstHeldId);
        a.href = '/items/' + w.firstHeldId;
        held.appendChild(a);
        held.appendChild(document.createTextNode(')'));
      }
      tr.appendChild(held);
      return tr;
    });
    body.replaceChildren.apply(body, rows);
  }

  function progressText(p) {
    if (!p) return 'no progress reported yet';
    var amount = p.size != null ? p.done + ' of ' + p.size + (p.percent != null ? ' (' + p.percent + '%)' : '') : p.done + ' done';
    return p.message ? amount + ': ' + p.message : amount;
  }
  // Moves the bar of item id (rendered by the server, hidden until the job reports progress).
  function showProgress(id, p) {
    var box = document.querySelector('[data-progress-of="' + id + '"]');
    if (!box || !p) return;
    box.hidden = false;
    var none = document.querySelector('[data-no-progress-of="' + id + '"]');
    if (none) none.remove();
    var bar = box.querySelector('progress');
    if (p.percent != null) bar.value = p.percent; else bar.removeAttribute('value');
    box.querySelector('.progress-text').textContent = progressText(p);
  }

  // Appends the history records written since the last one shown (the body holds its id while the job runs).
  function appendHistory(id) {
    var body = byId('history-body');
    if (!body || !body.hasAttribute('data-after')) return null;
    return fetch('/api/items/' + id + '/history?limit=200&after=' + body.getAttribute('data-after'), { headers: { accept: 'application/json' }, credentials: 'same-origin' })
      .then(function (res) { return res.ok ? res.json() : null; })
      .then(function (h) {
        if (!h || !h.records.length) return;
        h.records.forEach(function (rec) {
          var tr = el('tr');
          tr.appendChild(el('td', rec.at.replace('T', ' ').replace(/\.\d+Z$/, ' UTC')));
          tr.appendChild(el('td', rec.handler));
          tr.appendChild(el('td', rec.subject));
          tr.appendChild(el('td', rec.status));
          var c = el('td');
          c.appendChild(el('pre', rec.comment));
          tr.appendChild(c);
          body.appendChild(tr);
        });
        body.setAttribute('data-after', String(h.records[h.records.length - 1].id));
        body.closest('table').hidden = false;
        var empty = byId('history-empty');
        if (empty) empty.remove();
      });
  }

  // The running jobs: a row per job, its bar moved in place; a job that started or ended changes the rows.
  function showJobs(v) {
    var body = byId('running-body');
    if (!body) return;
    // Rows are rebuilt when a job starts or ends or is asked to cancel; otherwise only the bars move.
    var now = v.running.map(function (j) { return j.id + (j.cancelRequested ? 'c' : ''); }).join(',');
    if (body.getAttribute('data-key') !== now) {
      body.setAttribute('data-key', now);
      body.replaceChildren.apply(body, v.running.map(function (j) {
        var tr = el('tr');
        tr.setAttribute('data-job', String(j.id));
        var idCell = el('td');
        var a = el('a', j.id);
        a.href = '/items/' + j.id;
        idCell.appendChild(a);
        tr.appendChild(idCell);
        var typeCell = el('td', j.type);
        if (j.cancelRequested) typeCell.appendChild(el('span', ' cancel requested', 'warn'));
        tr.appendChild(typeCell);
        tr.appendChild(el('td', j.invoker || ''));
        tr.appendChild(el('td', j.startedAt ? j.startedAt.replace('T', ' ').replace(/\.\d+Z$/, ' UTC') : 'waiting for a slot'));
        var pc = el('td');
        var box = el('div', null, 'progress');
        box.setAttribute('data-progress-of', String(j.id));
        box.hidden = true;
        var bar = el('progress');
        bar.max = 100;
        box.appendChild(bar);
        box.appendChild(el('span', '', 'progress-text'));
        pc.appendChild(box);
        tr.appendChild(pc);
        return tr;
      }));
      var empty = byId('running-empty');
      if (empty) empty.hidden = v.running.length > 0;
    }
    v.running.forEach(function (j) { showProgress(j.id, j.progress); });
  }

  var url, every, show;
  if (kind === 'overview') { url = '/api/overview'; every = 2000; show = showOverview; }
  else if (kind === 'workers') { url = '/api/workers'; every = 3000; show = showWorkers; }
  else if (kind === 'item') {
    url = '/api/items/' + root.getAttribute('data-id');
    every = 1000;
    // The page is rendered by the server: when the item's status changes, load it again; meanwhile move its bar.
    show = function (r) {
      var asked = r.item.cancelRequested ? 'yes' : 'no';
      if (r.item.status !== root.getAttribute('data-status') || asked !== root.getAttribute('data-cancel-requested')) { location.reload(); return; }
      showProgress(r.item.id, r.item.progress);
      return appendHistory(r.item.id);
    };
  } else if (kind === 'jobs') { url = '/api/jobs'; every = 1000; show = showJobs; }
  else return;

  var stopped = false;
  function tick() {
    if (stopped) return;
    if (document.hidden) { setTimeout(tick, every); return; }
    fetch(url, { headers: { accept: 'application/json' }, credentials: 'same-origin' })
      .then(function (res) {
        if (res.status === 404 || res.status === 401 || res.status === 403) { stopped = true; return null; }
        return res.ok ? res.json() : null;
      })
      .then(function (data) { if (data) return show(data); })
      .catch(function () {})
      .then(function () { setTimeout(tick, every); });
  }
  setTimeout(tick, every);
})();
`;
