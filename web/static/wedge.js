// One input that a keyboard-wedge scanner types into: the code, then Enter
// (or Tab). Behind an active Chinese input method the keystrokes arrive as
// a composition: the code is then taken from the physical keys
// (KeyboardEvent.code), and onCompose is told (to ask, in a banner, to
// switch the input method). Used by the scan station, the counter and the
// stocktake.
window.courierWedge = function (input, onCode, onCompose) {
  'use strict';
  var keys = '';        // the physical keys typed since the last code
  var composed = false; // an input method composed part of this entry

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
  function clear() { input.value = ''; keys = ''; composed = false; }
  // The code as scanned (and the field cleared): the field's text, or the
  // physical keys when an input method turned the keystrokes into
  // something else.
  function take() {
    var v = input.value.replace(/\s+/g, '').toUpperCase();
    if (composed && keys && !/^[A-Z0-9-]+$/.test(v)) v = keys;
    clear();
    return v;
  }
  input.addEventListener('compositionstart', function () {
    composed = true;
    if (onCompose) onCompose();
  });
  input.addEventListener('keydown', function (e) {
    if (e.key === 'Enter' || e.key === 'Tab' || e.keyCode === 13) {
      if (e.isComposing) return; // the input method's own Enter ends the composition
      e.preventDefault();
      onCode(take());
      return;
    }
    if (e.key === 'Backspace') { keys = keys.slice(0, -1); return; }
    if (e.key === 'Escape') { clear(); return; }
    keys += keyChar(e.code, e.shiftKey);
  });
  return { take: take };
};

// The code a label's scan holds: its QR is the tracking address ending in
// /T/<waybill>; a barcode is the number itself.
window.courierCodeOf = function (raw) {
  'use strict';
  var m = /\/T\/([A-Z0-9]+)\s*$/i.exec(raw);
  return (m ? m[1] : raw).trim().toUpperCase();
};
