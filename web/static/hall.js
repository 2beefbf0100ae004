// The stocktake (盘点): scan a slot's label, then every parcel on it; then
// the next slot. Finishing sends what was seen; the service answers what is
// missing, unexpected and misplaced, and keeps the result.
(function () {
  'use strict';
  var box = document.getElementById('stocktake');
  if (!box) return;
  var csrf = document.querySelector('meta[name="csrf-token"]').content;
  var slot = document.getElementById('st-slot');
  var code = document.getElementById('st-code');
  var list = document.getElementById('st-seen');
  var seen = [];

  function item(ol, no, text, kind) {
    var li = document.createElement('li');
    li.className = kind || '';
    li.innerHTML = '<span class="no"></span><span></span>';
    li.firstChild.textContent = no;
    li.lastChild.textContent = text || '';
    ol.appendChild(li);
  }
  window.courierWedge(code, function (v) {
    if (!v) return;
    if (/^CS/.test(v)) { slot.value = v; item(list, v, box.dataset.slotSet, 'repeat'); return; }
    seen.push({ code: v, slot: slot.value.trim() });
    item(list, v, slot.value.trim(), 'done');
    document.getElementById('st-count').textContent = seen.length;
  });
  slot.addEventListener('keydown', function (e) {
    if (e.key === 'Enter' || e.key === 'Tab') { e.preventDefault(); code.focus(); }
  });
  document.getElementById('st-finish').addEventListener('click', function () {
    var b = this;
    b.disabled = true;
    fetch('/app/api/stocktakes', {
      method: 'POST', credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': csrf },
      body: JSON.stringify({ seen: seen })
    }).then(function (r) { return r.json().then(function (j) { return { ok: r.ok, body: j }; }); })
      .then(function (r) {
        b.disabled = false;
        var err = document.getElementById('st-error');
        err.textContent = '';
        if (!r.ok) { err.textContent = r.body.error && r.body.error.message || box.dataset.failed; return; }
        var res = r.body;
        ['missing', 'unexpected', 'misplaced'].forEach(function (k) {
          var ol = document.getElementById('st-' + k);
          ol.textContent = '';
          document.getElementById('st-' + k + '-count').textContent = res[k].length;
        });
        res.missing.forEach(function (m) { item(document.getElementById('st-missing'), m.waybill_no, m.slot, 'refused'); });
        res.unexpected.forEach(function (u) { item(document.getElementById('st-unexpected'), u, '', 'repeat'); });
        res.misplaced.forEach(function (m) { item(document.getElementById('st-misplaced'), m.waybill_no, m.recorded + ' → ' + m.found, 'repeat'); });
        document.getElementById('st-result').hidden = false;
      }).catch(function () { b.disabled = false; });
  });
})();
