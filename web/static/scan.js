// The scan station: choose the action once, then scan many. One input
// keeps the focus; a keyboard-wedge scanner types the code and Enter (or
// Tab). Behind an active Chinese input method the keystrokes arrive as a
// composition: the page then takes the code from the physical keys
// (KeyboardEvent.code) and asks, in a banner, to switch the input method.
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
  var keys = '';        // the physical keys typed since the last scan
  var composed = false; // an input method composed part of this entry

  function action() {
    var a = form.querySelector('input[name="action"]:checked');
    return a || form.querySelector('input[name="action"]');
  }
  function showFields() {
    var a = action();
    document.getElementById('slot-row').hidden = !(a && a.dataset.slot);
    document.getElementById('reason-row').hidden = !(a && a.dataset.reason);
  }
  form.addEventListener('change', function (e) {
    if (e.target.name === 'action') { showFields(); input.focus(); }
  });
  showFields();

  // What a physical key types on a US layout, for the codes we print
  // (letters, digits, '-').
  function keyChar(code, shift) {
    var m = /^Key([A-Z])$/.exec(code);
    if (m) return m[1];
    m = /^(?:Digit|Numpad)([0-9])$/.exec(code);
    if (m && !shift) return m[1];
    if (code === 'Minus' || code === 'NumpadSubtract') return '-';
    return '';
  }
  input.addEventListener('compositionstart', function () { composed = true; banner.hidden = false; });
  input.addEventListener('keydown', function (e) {
    if (e.key === 'Enter' || e.key === 'Tab' || e.keyCode === 13) {
      if (e.isComposing) return; // the input method's own Enter ends the composition
      e.preventDefault();
      submit();
      return;
    }
    if (e.key === 'Backspace') { keys = keys.slice(0, -1); return; }
    if (e.key === 'Escape') { clear(); return; }
    keys += keyChar(e.code, e.shiftKey);
  });
  form.addEventListener('submit', function (e) { e.preventDefault(); submit(); });
  // The input keeps the focus, unless another field of the form takes it.
  input.addEventListener('blur', function () {
    setTimeout(function () {
      var f = document.activeElement;
      if (!f || f === document.body) input.focus();
    }, 150);
  });

  function clear() { input.value = ''; keys = ''; composed = false; }

  // The code as scanned: the field's text, or the physical keys when an
  // input method turned the keystrokes into something else.
  function scanned() {
    var v = input.value.replace(/\s+/g, '').toUpperCase();
    if (composed && keys && !/^[A-Z0-9-]+$/.test(v)) v = keys;
    return v;
  }

  function scanID() {
    var b = new Uint8Array(16);
    crypto.getRandomValues(b);
    return 'web-' + Array.prototype.map.call(b, function (x) { return ('0' + x.toString(16)).slice(-2); }).join('');
  }

  function submit() {
    var code = scanned();
    clear();
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
    var body = { code: code, action: a.value, scan_id: scanID(), source: 'scan' };
    if (a.dataset.slot && slot.value) body.slot = slot.value.trim();
    if (a.dataset.reason && reason.value) body.reason = reason.value;
    fetch('/app/api/scans', {
      method: 'POST', credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': csrf },
      body: JSON.stringify(body)
    }).then(function (r) {
      return r.json().then(function (j) { return { ok: r.ok, status: r.status, body: j }; });
    }).then(function (r) {
      if (r.status === 401) { location.href = '/login?why=auth.session_ended&next=' + encodeURIComponent(location.pathname); return; }
      if (r.ok) {
        var it = r.body.items && r.body.items[0] || {};
        var rep = r.body.repeat;
        show(results, rep ? 'repeat' : 'done', it.waybill_no || code, (rep ? form.dataset.repeat : form.dataset.done) + ' · ' + (it.status_text || ''));
        if (!rep) { done++; count.textContent = done; }
        beep(rep ? 'repeat' : 'done');
        return;
      }
      var msg = r.body.error && r.body.error.message || form.dataset.failed;
      var where = /^code\.|not_found/.test(r.body.error && r.body.error.code || '') ? exceptions : results;
      show(where, 'refused', code, msg);
      if (where === exceptions) { refused++; exceptionCount.textContent = refused; }
      beep('refused');
    }).catch(function () {
      show(results, 'refused', code, form.dataset.offline);
      beep('refused');
    });
  }

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
