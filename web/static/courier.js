// The courier's page: the recipient signs on the phone's screen (a canvas,
// finger or pen), and the drawing goes with the delivery form as a PNG.
(function () {
  'use strict';
  document.querySelectorAll('form.deliver').forEach(function (form) {
    var canvas = form.querySelector('canvas.signature');
    var field = form.querySelector('input[name="signature"]');
    var clear = form.querySelector('button.clear-signature');
    if (!canvas || !field) return;
    var ctx = canvas.getContext('2d');
    var drawn = false, last = null;
    function size() {
      var r = canvas.getBoundingClientRect();
      canvas.width = Math.round(r.width);
      canvas.height = Math.round(r.height);
      ctx.fillStyle = '#fff';
      ctx.fillRect(0, 0, canvas.width, canvas.height);
      ctx.lineWidth = 3;
      ctx.lineCap = 'round';
      ctx.strokeStyle = '#111';
      drawn = false;
    }
    function at(e) {
      var r = canvas.getBoundingClientRect();
      return { x: e.clientX - r.left, y: e.clientY - r.top };
    }
    canvas.addEventListener('pointerdown', function (e) {
      try { canvas.setPointerCapture(e.pointerId); } catch (err) { /* a pen or finger the browser no longer tracks */ }
      last = at(e);
    });
    canvas.addEventListener('pointermove', function (e) {
      if (!last) return;
      var p = at(e);
      ctx.beginPath();
      ctx.moveTo(last.x, last.y);
      ctx.lineTo(p.x, p.y);
      ctx.stroke();
      last = p;
      drawn = true;
    });
    ['pointerup', 'pointercancel'].forEach(function (t) {
      canvas.addEventListener(t, function () { last = null; });
    });
    if (clear) clear.addEventListener('click', function () { size(); field.value = ''; });
    form.addEventListener('submit', function () {
      field.value = drawn ? canvas.toDataURL('image/png') : '';
    });
    size();
  });
})();
