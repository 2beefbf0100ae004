// The registration form: as the clerk types, the service checks the form
// with the rules it saves by (POST /app/api/parcels/check) and answers
// the path the parcel will take, or the first problem, shown beside its
// field. Saving is an ordinary form post, so the page works without this.
(function () {
  'use strict';
  var form = document.getElementById('register-form');
  if (!form) return;
  var csrf = document.querySelector('meta[name="csrf-token"]').content;
  var path = document.getElementById('path');
  var timer, seq = 0;

  function values() {
    var v = {};
    new FormData(form).forEach(function (val, key) { if (key !== '_csrf') v[key] = String(val); });
    return v;
  }
  function clearLive() {
    form.querySelectorAll('.live-error').forEach(function (el) { el.remove(); });
  }
  function showError(field, msg) {
    var input = field && form.querySelector('[name="' + field + '"]');
    var p = document.createElement('p');
    p.className = 'field-error live-error';
    p.setAttribute('role', 'alert');
    p.dataset.field = field || '';
    p.textContent = msg;
    if (input) {
      var after = input.type === 'radio' ? input.closest('fieldset') : input;
      after.insertAdjacentElement('afterend', p);
    } else {
      path.insertAdjacentElement('afterend', p);
    }
  }
  // Only what the clerk has filled in is judged: an empty field is not
  // yet an error.
  function filled(field, v) { return !field || (v[field] || '') !== ''; }

  function check() {
    var v = values();
    var mine = ++seq;
    fetch('/app/api/parcels/check', {
      method: 'POST', credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': csrf },
      body: JSON.stringify(v)
    }).then(function (r) { return r.json().then(function (j) { return { ok: r.ok, body: j }; }); })
      .then(function (r) {
        if (mine !== seq) return; // a newer check is on its way
        clearLive();
        var names = r.body.path_names || [];
        path.textContent = names.length > 1 ? form.dataset.ok + names.join(' → ') : '';
        var e = r.body.error;
        if (e && filled(e.field, v)) showError(e.field, e.message);
      }).catch(function () { /* offline: the post will say */ });
  }
  form.addEventListener('input', function () {
    clearTimeout(timer);
    timer = setTimeout(check, 350);
  });
  form.addEventListener('change', function () {
    clearTimeout(timer);
    check();
  });
  // Express to the door: the address (its lists: address.js) instead of
  // the hall.
  var addr = document.getElementById('dest-address');
  var hall = document.getElementById('dest-hall');
  function showDest() {
    var express = form.querySelector('input[name="dest_kind"]:checked');
    express = express && express.value === 'address';
    if (addr) addr.hidden = !express;
    if (hall) hall.hidden = express;
  }
  if (addr) {
    form.addEventListener('change', showDest);
    showDest();
  }
  // One submit: a second click while the first is on its way does nothing
  // (and a repeat of the same application number finds the same parcel).
  form.addEventListener('submit', function () {
    var b = document.getElementById('register');
    setTimeout(function () { b.disabled = true; }, 0);
  });
})();
