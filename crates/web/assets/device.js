// Hall devices and kiosks (issue 6 §2). The only script of the program; every page works without it.
// On the idle screen (#device): long-poll for the record the window just completed and open its evaluation.
// On an evaluation page opened from a device or kiosk (<body data-idle>): go back to the idle screen after
// the given seconds without a touch.
(function () {
  "use strict";
  var device = document.getElementById("device");
  var kiosk = document.getElementById("kiosk-home");
  if (device) {
    sessionStorage.setItem("hcp_home", location.pathname);
    var status = document.getElementById("device-status");
    var poll = function () {
      var after = sessionStorage.getItem("hcp_after") || "0";
      fetch(device.getAttribute("data-next") + "?after=" + encodeURIComponent(after), { cache: "no-store" })
        .then(function (r) {
          if (r.status === 200) { return r.json(); }
          if (r.status === 204) { return null; }
          throw new Error("HTTP " + r.status);
        })
        .then(function (v) {
          if (v && v.url) {
            sessionStorage.setItem("hcp_after", String(v.record_id));
            location.href = v.url;
          } else {
            poll();
          }
        })
        .catch(function () {
          if (status) { status.textContent = "正在重新连接服务器……"; }
          setTimeout(poll, 5000);
        });
    };
    poll();
    return;
  }
  if (kiosk) { sessionStorage.setItem("hcp_home", kiosk.getAttribute("data-home")); }
  var idle = parseInt(document.body.getAttribute("data-idle") || "0", 10);
  var home = sessionStorage.getItem("hcp_home");
  if (!idle || !home || home === location.pathname) { return; }
  var timer = null;
  var reset = function () {
    clearTimeout(timer);
    timer = setTimeout(function () { location.href = home; }, idle * 1000);
  };
  ["click", "keydown", "touchstart", "input"].forEach(function (e) { document.addEventListener(e, reset, true); });
  reset();
})();
