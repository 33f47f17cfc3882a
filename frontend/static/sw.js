// Vitrine's service worker: shows a push message and opens its notice when tapped. Nothing else: no caching,
// no background work. Served at /sw.js (scope "/") by frontend/pages/push_devices.py.
"use strict";

self.addEventListener("push", function (event) {
  var message = {};
  try {
    message = event.data ? event.data.json() : {};
  } catch (error) {
    message = {};
  }
  var title = message.title || "Vitrine";
  event.waitUntil(
    self.registration.showNotification(title, {
      body: message.body || "",
      lang: message.lang || "",
      tag: message.tag || undefined,
      data: { url: message.url || "/inbox" }
    })
  );
});

self.addEventListener("notificationclick", function (event) {
  event.notification.close();
  var target = new URL((event.notification.data && event.notification.data.url) || "/inbox", self.location.origin);
  // Only ever open Vitrine's own pages, whatever the payload says.
  if (target.origin !== self.location.origin) {
    target = new URL("/inbox", self.location.origin);
  }
  event.waitUntil(
    self.clients.matchAll({ type: "window", includeUncontrolled: true }).then(function (windows) {
      for (var i = 0; i < windows.length; i += 1) {
        if (windows[i].url === target.href && "focus" in windows[i]) {
          return windows[i].focus();
        }
      }
      return self.clients.openWindow(target.href);
    })
  );
});
