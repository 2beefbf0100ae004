// The counter with several parcels of one holder: the clerk fetches each
// from its slot and scans its label here; the parcel's card turns green and
// its form takes the focus. A label that is not one of the holder's
// parcels ready here is said so beside the field (never handed over).
(function () {
  'use strict';
  var pick = document.getElementById('pick');
  if (!pick) return;
  var err = document.getElementById('pick-error');
  var count = document.getElementById('picked');
  window.courierWedge(pick, function (v) {
    if (!v) return;
    v = window.courierCodeOf(v);
    var card = null;
    document.querySelectorAll('section.parcel').forEach(function (s) {
      if (s.dataset.waybill === v) card = s;
    });
    if (!card || !card.dataset.ready) {
      err.textContent = v + ': ' + (card ? pick.dataset.notReady : pick.dataset.notHere);
      err.hidden = false;
      pick.focus();
      return;
    }
    err.hidden = true;
    card.classList.add('picked');
    card.querySelector('.picked-mark').hidden = false;
    count.textContent = document.querySelectorAll('section.parcel.picked').length;
    card.scrollIntoView({ block: 'start' });
    // Its form takes the focus when the scanner's Enter is over: moved at
    // the keydown, the key's press would submit that form at once.
    next = card.querySelector('input[name="collection_code"]:not([type="hidden"]), input[name="id_number"]');
  });
  var next = null;
  pick.addEventListener('keyup', function () {
    if (next) { next.focus(); next = null; }
  });
})();
