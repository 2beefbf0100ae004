// The import's upload form: a file over the limit is said beside the field
// before it is sent (the server refuses it too), and the button shows the
// upload is under way so that it is not pressed twice.
(function () {
  'use strict';
  var form = document.getElementById('upload-form');
  if (!form) return;
  var input = document.getElementById('file');
  var max = Number(form.dataset.max);
  var msg = document.getElementById('file-size-error');
  form.addEventListener('submit', function (e) {
    var f = input.files && input.files[0];
    if (f && max && f.size > max) {
      e.preventDefault();
      msg.hidden = false;
      input.focus();
      return;
    }
    msg.hidden = true;
    var b = document.getElementById('upload');
    b.disabled = true;
    b.textContent = form.dataset.sending;
  });
  input.addEventListener('change', function () { msg.hidden = true; });
})();
