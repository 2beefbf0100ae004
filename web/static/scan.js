// The scan station: choose the action once, then scan many. One input
// keeps the focus; a keyboard-wedge scanner types the code and Enter (or
// Tab), read by wedge.js, which also copes with an active Chinese input
// method (and then the page asks, in a banner, to switch it).
(function () {
  'use strict';
  var form = document.getElementById('scan-form');
  if (!form) return;
  var input = document.getElementById('code');
  var slot = document.getElementById('slot');
  var reason = document.getElementById('reason');
  var results = document.getElementById('results');
  var exceptions = document.getElementById('exceptions');
  var count = document.getElementById('count');
  var exceptionCount = document.getElementById('exception-count');
  var banner = document.getElementById('ime-banner');
  var csrf = document.querySelector('meta[name="csrf-token"]').content;
  var done = 0, refused = 0;

  function action() {
    var a = form.querySelector('input[name="action"]:checked');
    return a || form.querySelector('input[name="action"]');
  }
  function showFields() {
    var a = action();
    document.getElementById('slot-row').hidden = !(a && a.dataset.slot);
    document.getElementById('reason-row').hidden = !(a && a.dataset.reason === 'report');
    document.getElementById('correct-row').hidden = !(a && a.dataset.reason === 'correct');
    document.getElementById('resolution-row').hidden = !(a && a.dataset.resolution);
  }
  form.addEventListener('change', function (e) {
    if (e.target.name === 'action') { showFields(); input.focus(); }
  });
  showFields();

  var wedge = window.courierWedge(input, submit, function () { banner.hidden = false; });
  form.addEventListener('submit', function (e) { e.preventDefault(); submit(wedge.take()); });
  // The input keeps the focus, unless another field of the form takes it.
  input.addEventListener('blur', function () {
    setTimeout(function () {
      var f = document.activeElement;
      if (!f || f === document.body) input.focus();
    }, 150);
  });

  function scanID() {
    var b = new Uint8Array(16);
    crypto.getRandomValues(b);
    return 'web-' + Array.prototype.map.call(b, function (x) { return ('0' + x.toString(16)).slice(-2); }).join('');
  }

  function submit(code) {
    input.focus();
    if (!code) return;
    var a = action();
    // In a shelving action a slot label's code sets the slot (kept until changed).
    if (a.dataset.slot && /^CS/.test(code)) {
      slot.value = code;
      show(results, 'done', code, form.dataset.slotSet);
      beep('slot');
      return;
    }
    var t0 = performance.now();
    // The time from the scan to its answer on the screen, for the bench
    // (courier-bench -station) and anyone curious: the newest 500.
    var shown = function () {
      var ts = window.courierScanTimes = window.courierScanTimes || [];
      ts.push(performance.now() - t0);
      if (ts.length > 500) ts.shift();
    };
    var body = { code: code, action: a.value, scan_id: scanID(), source: 'scan' };
    if (a.dataset.slot && slot.value) body.slot = slot.value.trim();
    if (a.dataset.reason === 'report' && reason.value) body.reason = reason.value;
    if (a.dataset.reason === 'correct') body.reason = document.getElementById('correct-reason').value;
    if (a.dataset.resolution) body.resolution = document.getElementById('resolution').value;
    fetch('/app/api/scans', {
      method: 'POST', credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': csrf },
      body: JSON.stringify(body)
    }).then(function (r) {
      return r.json().then(function (j) { return { ok: r.ok, status: r.status, body: j }; });
    }).then(function (r) {
      if (r.status === 401) { location.href = '/login?why=auth.session_ended&next=' + encodeURIComponent(location.pathname); return; }
      if (r.ok && (r.body.kind === 'bag' || r.body.kind === 'run')) {
        if (a.value === 'receive') openBag(r.body);
        show(results, r.body.repeat ? 'repeat' : 'done', code, (r.body.items || []).length + ' · ' + form.dataset.done);
        beep(r.body.repeat ? 'repeat' : 'done');
        return;
      }
      if (r.ok) {
        var it = r.body.items && r.body.items[0] || {};
        var rep = r.body.repeat;
        if (bag && a.value === 'receive') tick(it.waybill_no || code);
        show(results, rep ? 'repeat' : 'done', it.waybill_no || code, (rep ? form.dataset.repeat : form.dataset.done) + ' · ' + (it.status_text || ''));
        if (!rep) { done++; count.textContent = done; }
        shown();
        beep(rep ? 'repeat' : 'done');
        return;
      }
      var msg = r.body.error && r.body.error.message || form.dataset.failed;
      var where = /^code\.|not_found/.test(r.body.error && r.body.error.code || '') ? exceptions : results;
      show(where, 'refused', code, msg);
      shown();
      if (where === exceptions) { refused++; exceptionCount.textContent = refused; }
      beep('refused');
    }).catch(function () {
      // No network: kept in the browser, sent when it returns.
      enqueue(body);
      show(results, 'repeat', code, form.dataset.queued);
      beep('repeat');
    });
  }

  // Offline scans. A scan the network did not carry is kept in IndexedDB
  // with its scan id and the user who made it, and sent in order when the
  // network returns, only while that user is signed in here; its scan id
  // makes a scan that did reach the server count once. Nothing personal is
  // kept: the code, the action, the slot or reason.
  var who = (document.getElementById('who') || {}).textContent || '';
  var pendingBox = document.getElementById('pending');
  var dbp = null;
  function db() {
    if (!dbp) {
      dbp = new Promise(function (ok, fail) {
        var r = indexedDB.open('courier-scans', 1);
        r.onupgradeneeded = function () { r.result.createObjectStore('queue', { keyPath: 'id', autoIncrement: true }); };
        r.onsuccess = function () { ok(r.result); };
        r.onerror = function () { fail(r.error); };
      });
    }
    return dbp;
  }
  function tx(mode, fn) {
    return db().then(function (d) {
      return new Promise(function (ok, fail) {
        var t = d.transaction('queue', mode);
        var out = fn(t.objectStore('queue'));
        t.oncomplete = function () { ok(out && out.result); };
        t.onerror = function () { fail(t.error); };
      });
    });
  }
  function enqueue(body) {
    tx('readwrite', function (st) { return st.add({ user: who, body: body, at: Date.now() }); }).then(pending);
  }
  function mine() {
    return tx('readonly', function (st) { return st.getAll(); }).then(function (all) {
      return (all || []).filter(function (e) { return e.user === who; });
    });
  }
  function pending() {
    return mine().then(function (list) {
      pendingBox.hidden = list.length === 0;
      document.getElementById('pending-count').textContent = list.length;
      return list;
    });
  }
  var flushing = false;
  function flush() {
    if (flushing || !who) return;
    flushing = true;
    // Only for the user who made them: the session must be theirs (the
    // page may have come from the cache).
    mine().then(function (list) {
      if (!list.length) { flushing = false; return; }
      return fetch('/app/api/me', { credentials: 'same-origin' }).then(function (r) {
        return r.ok ? r.json() : {};
      }).then(function (me) {
        if (me.username !== who) { flushing = false; return; }
        send(list);
      });
    }).catch(function () { flushing = false; });
  }
  function send(list) {
    (function next(list) {
      if (!list.length) { flushing = false; pending(); return; }
      var e = list[0];
      fetch('/app/api/scans', {
        method: 'POST', credentials: 'same-origin',
        headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': csrf },
        body: JSON.stringify(e.body)
      }).then(function (r) {
        return r.json().then(function (j) { return { ok: r.ok, status: r.status, body: j }; });
      }).then(function (r) {
        if (r.status === 401 || r.status === 403) { flushing = false; return; } // signed out: kept for later
        var it = r.ok && r.body.items && r.body.items[0] || {};
        if (r.ok) {
          show(results, r.body.repeat ? 'repeat' : 'done', it.waybill_no || e.body.code,
            (r.body.repeat ? form.dataset.repeat : form.dataset.done) + ' · ' + (it.status_text || ''));
          if (!r.body.repeat) { done++; count.textContent = done; }
        } else {
          // A replayed scan that no longer fits: refused, with its reason.
          show(results, 'refused', e.body.code, r.body.error && r.body.error.message || form.dataset.failed);
        }
        return tx('readwrite', function (st) { return st.delete(e.id); }).then(function () { list.shift(); next(list); });
      }).catch(function () { flushing = false; pending(); });
    })(list);
  }
  window.addEventListener('online', flush);
  // The online event, and a look every few seconds (an event can be missed).
  setInterval(flush, 3000);
  pending().then(flush);
  if ('serviceWorker' in navigator) {
    navigator.serviceWorker.register('/sw.js').catch(function () { /* no offline loading */ });
  }

  // A bag received: its check list (expected, scanned, missing, extra),
  // each parcel scanned after it ticked off; closing it reports the
  // missing ones (the run's close, as the API's).
  var bag = null;
  var bagList = document.getElementById('bag-list');
  var bagBox = document.getElementById('bag');
  var rowClass = { expected: '', scanned: 'done', missing: 'refused', extra: 'repeat' };
  // state sets a check-list row's colour and its words (not colour alone).
  function state(li, kind) {
    li.className = rowClass[kind];
    li.dataset.kind = kind;
    li.lastChild.textContent = bagBox.dataset[kind];
  }
  function row(no, kind) {
    var li = document.createElement('li');
    li.dataset.waybill = no;
    li.innerHTML = '<span class="no"></span><span></span>';
    li.firstChild.textContent = no;
    state(li, kind);
    bagList.appendChild(li);
  }
  function openBag(res) {
    bag = { code: res.code, expected: {}, scanned: {}, extra: {} };
    bagList.textContent = '';
    (res.items || []).forEach(function (it) {
      bag.expected[it.waybill_no] = true;
      row(it.waybill_no, 'expected');
    });
    document.getElementById('bag-no').textContent = res.code;
    document.getElementById('bag-result').textContent = '';
    document.getElementById('bag-close').disabled = false;
    bagBox.hidden = false;
    counts();
  }
  function tick(no) {
    if (bag.expected[no]) {
      bag.scanned[no] = true;
      var li = bagList.querySelector('li[data-waybill="' + no + '"]');
      if (li) state(li, 'scanned');
    } else if (!bag.extra[no]) {
      bag.extra[no] = true;
      row(no, 'extra');
    }
    counts();
  }
  function counts() {
    var n = function (o) { return Object.keys(o).length; };
    document.getElementById('bag-expected').textContent = n(bag.expected);
    document.getElementById('bag-scanned').textContent = n(bag.scanned);
    document.getElementById('bag-missing').textContent = n(bag.expected) - n(bag.scanned);
    document.getElementById('bag-extra').textContent = n(bag.extra);
  }
  document.getElementById('bag-close').addEventListener('click', function () {
    if (!bag) return;
    var b = this;
    b.disabled = true;
    fetch('/app/api/runs/' + encodeURIComponent(bag.code) + '/close', {
      method: 'POST', credentials: 'same-origin', headers: { 'X-CSRF-Token': csrf }
    }).then(function (r) { return r.json().then(function (j) { return { ok: r.ok, body: j }; }); })
      .then(function (r) {
        var out = document.getElementById('bag-result');
        if (!r.ok) { out.textContent = r.body.error && r.body.error.message || form.dataset.failed; b.disabled = false; return; }
        (r.body.missing || []).forEach(function (no) {
          var li = bagList.querySelector('li[data-waybill="' + no + '"]');
          if (li) state(li, 'missing');
        });
        out.textContent = bagBox.dataset.closed
          .replace('{received}', (r.body.received || []).length).replace('{missing}', (r.body.missing || []).length);
        bag = null;
        input.focus();
      }).catch(function () { b.disabled = false; });
  });

  function show(list, kind, code, text) {
    var li = document.createElement('li');
    li.className = kind;
    li.dataset.kind = kind;
    var no = document.createElement('span');
    no.className = 'no';
    no.textContent = code;
    var t = document.createElement('span');
    t.textContent = text;
    li.appendChild(no);
    li.appendChild(t);
    list.insertBefore(li, list.firstChild);
    while (list.children.length > 200) list.removeChild(list.lastChild);
  }

  // A distinct sound for each answer: one high tone (done), two (repeat),
  // one long low tone (refused).
  var audio;
  function beep(kind) {
    try {
      audio = audio || new (window.AudioContext || window.webkitAudioContext)();
      var tones = { done: [[880, 0.12]], slot: [[660, 0.1]], repeat: [[660, 0.09], [660, 0.09]], refused: [[220, 0.45]] }[kind];
      var t = audio.currentTime;
      tones.forEach(function (tone) {
        var o = audio.createOscillator(), g = audio.createGain();
        o.frequency.value = tone[0];
        g.gain.value = 0.2;
        o.connect(g); g.connect(audio.destination);
        o.start(t); o.stop(t + tone[1]);
        t += tone[1] + 0.06;
      });
    } catch (e) { /* no sound device */ }
  }
})();
