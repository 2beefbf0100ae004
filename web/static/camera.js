// Camera scanning on phones: the browser's BarcodeDetector (or the
// vendored polyfill, whose WebAssembly our server serves) reads a label's
// QR code or Code 128 from the back camera; the code goes to the scan
// station's field as a wedge scanner's would. Needs a secure context
// (HTTPS, or localhost).
(function () {
  'use strict';
  var btn = document.getElementById('camera');
  var form = document.getElementById('scan-form');
  if (!btn || !form) return;
  var video = document.getElementById('camera-video');
  var input = document.getElementById('code');
  if (!(navigator.mediaDevices && navigator.mediaDevices.getUserMedia)) return;
  btn.hidden = false;
  var stream = null, timer = null, last = '', lastAt = 0, detector = null;

  function makeDetector() {
    if (window.BarcodeDetectionAPI) {
      window.BarcodeDetectionAPI.prepareZXingModule({
        overrides: { locateFile: function (p, prefix) { return p.slice(-5) === '.wasm' ? btn.dataset.wasm : prefix + p; } }
      });
    }
    return new window.BarcodeDetector({ formats: ['qr_code', 'code_128'] });
  }
  // A label's QR holds its public address, …/T/<waybill>; Code 128 the number.
  function stop() {
    clearInterval(timer);
    timer = null;
    if (stream) stream.getTracks().forEach(function (t) { t.stop(); });
    stream = null;
    video.hidden = true;
    btn.textContent = btn.dataset.start;
  }
  btn.addEventListener('click', function () {
    if (stream) { stop(); input.focus(); return; }
    navigator.mediaDevices.getUserMedia({ video: { facingMode: 'environment' } }).then(function (s) {
      stream = s;
      video.srcObject = s;
      video.hidden = false;
      btn.textContent = btn.dataset.stop;
      return video.play();
    }).then(function () {
      detector = detector || makeDetector();
      timer = setInterval(function () {
        if (video.readyState < 2) return;
        detector.detect(video).then(function (found) {
          if (!found.length) return;
          var code = window.courierCodeOf(found[0].rawValue);
          var now = Date.now();
          if (code === last && now - lastAt < 3000) return; // the same label still in view
          last = code; lastAt = now;
          input.value = code;
          form.requestSubmit();
        }).catch(function () { /* a frame it could not read */ });
      }, 250);
    }).catch(function () {
      stop();
      btn.textContent = btn.dataset.denied;
    });
  });
})();
