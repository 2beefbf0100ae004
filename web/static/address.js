// The address forms (the desk's, the citizen's private link): province,
// city and district chosen from the national division codes, each list
// following the one above. The service checks what is sent either way.
(function () {
  'use strict';
  document.querySelectorAll('[data-divisions]').forEach(function (box) {
    var sels = ['province', 'city', 'district'].map(function (id) { return box.querySelector('#' + id); });
    if (!sels[0] || !sels[1] || !sels[2]) return;
    var fill = function (sel, items, want) {
      while (sel.options.length > 1) sel.remove(1);
      (items || []).forEach(function (it) {
        var o = document.createElement('option');
        o.value = o.textContent = it.name;
        o.selected = it.name === want;
        sel.appendChild(o);
      });
    };
    var find = function (items, name) {
      for (var i = 0; items && i < items.length; i++) if (items[i].name === name) return items[i];
      return null;
    };
    fetch(box.dataset.divisions, { credentials: 'same-origin' }).then(function (r) { return r.json(); }).then(function (all) {
      var p = function () { return find(all, sels[0].value); };
      var c = function () { var x = p(); return x && find(x.children, sels[1].value); };
      fill(sels[0], all, sels[0].dataset.value);
      fill(sels[1], (p() || {}).children, sels[1].dataset.value);
      fill(sels[2], (c() || {}).children, sels[2].dataset.value);
      sels[0].addEventListener('change', function () { fill(sels[1], (p() || {}).children, ''); fill(sels[2], [], ''); });
      sels[1].addEventListener('change', function () { fill(sels[2], (c() || {}).children, ''); });
    }).catch(function () { /* offline: the service checks what is sent */ });
  });
})();
