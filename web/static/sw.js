// The scan station's service worker: the station loads without network.
// Its page is fetched from the network first and kept for when there is
// none; the static files (named by their content's hash) come from the
// cache. Nothing else is kept, and no personal data is.
'use strict';
var CACHE = 'courier-station-v1';

self.addEventListener('install', function () { self.skipWaiting(); });
self.addEventListener('activate', function (e) { e.waitUntil(self.clients.claim()); });

self.addEventListener('fetch', function (e) {
  var req = e.request;
  if (req.method !== 'GET') return;
  var url = new URL(req.url);
  if (url.origin !== self.location.origin) return;
  if (url.pathname.indexOf('/static/') === 0) {
    e.respondWith(caches.open(CACHE).then(function (c) {
      return c.match(req).then(function (hit) {
        return hit || fetch(req).then(function (r) {
          if (r.ok) c.put(req, r.clone());
          return r;
        });
      });
    }));
    return;
  }
  if (url.pathname === '/scan') {
    e.respondWith(fetch(req).then(function (r) {
      if (r.ok && !r.redirected) {
        var copy = r.clone();
        caches.open(CACHE).then(function (c) { c.put('/scan', copy); });
      }
      return r;
    }).catch(function () {
      return caches.open(CACHE).then(function (c) { return c.match('/scan'); }).then(function (hit) {
        return hit || Response.error();
      });
    }));
  }
});
