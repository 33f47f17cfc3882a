// Opt-in to notifications on this device (Web Push), on the notification settings page. Without this file the
// page explains that it needs JavaScript; the device list and its "remove" buttons work without it.
(function () {
  "use strict";
  var section = document.querySelector("[data-module='push-devices']");
  if (!section) { return; }
  var controls = section.querySelector("[data-push-controls]");
  var button = section.querySelector("[data-push-subscribe]");
  var status = section.querySelector("[data-push-status]");
  var noScript = section.querySelector("[data-push-needs-script]");
  if (noScript) { noScript.hidden = true; }

  function say(name) {
    status.textContent = section.getAttribute("data-text-" + name) || "";
  }

  if (!("serviceWorker" in navigator) || !("PushManager" in window) || !("Notification" in window)) {
    say("unsupported");
    return;
  }
  controls.hidden = false;

  function keyBytes(base64url) {
    var padded = base64url.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((base64url.length + 3) % 4);
    var raw = window.atob(padded);
    var bytes = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i += 1) { bytes[i] = raw.charCodeAt(i); }
    return bytes;
  }

  function subscribe(registration) {
    return registration.pushManager.getSubscription().then(function (existing) {
      return existing || registration.pushManager.subscribe({
        userVisibleOnly: true,
        applicationServerKey: keyBytes(section.getAttribute("data-public-key"))
      });
    });
  }

  function register(subscription) {
    return fetch(section.getAttribute("data-api"), {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": section.getAttribute("data-csrf") },
      body: JSON.stringify(subscription.toJSON())
    }).then(function (answer) {
      if (!answer.ok) { throw new Error("registration refused: " + answer.status); }
    });
  }

  button.addEventListener("click", function () {
    button.disabled = true;
    say("working");
    Notification.requestPermission().then(function (permission) {
      if (permission !== "granted") {
        say("denied");
        button.disabled = false;
        return null;
      }
      return navigator.serviceWorker.register("/sw.js", { scope: "/" })
        .then(function () { return navigator.serviceWorker.ready; })
        .then(subscribe)
        .then(register)
        .then(function () {
          // The server lists the devices: show the page again with this one in the list.
          window.location.assign(window.location.pathname + "?device=added");
        });
    }).catch(function () {
      say("error");
      button.disabled = false;
    });
  });
})();
