// exchange: small progressive enhancements; every page works without them.
(function () {
  "use strict";

  function span(seconds) {
    var s = Math.abs(Math.round(seconds));
    var d = Math.floor(s / 86400), h = Math.floor((s % 86400) / 3600), m = Math.floor((s % 3600) / 60);
    var text = d ? d + " d " + h + " h" : h ? h + " h " + String(m).padStart(2, "0") + " min" : m + " min";
    return seconds < 0 ? "overdue " + text : text + " left";
  }

  // Live countdowns: <span data-due="ISO time">, on the server's clock: the page says
  // what time the server read when it made the page, and the difference to this
  // device's clock is kept (a device clock minutes off would show deadlines wrongly).
  var served = Date.parse(document.body.getAttribute("data-server-now") || "");
  var skew = isNaN(served) ? 0 : served - Date.now();
  function tick() {
    var now = Date.now() + skew;
    document.querySelectorAll("[data-due]").forEach(function (el) {
      var left = (Date.parse(el.getAttribute("data-due")) - now) / 1000;
      el.textContent = span(left);
      el.classList.toggle("overdue", left < 0);
    });
  }
  if (document.querySelector("[data-due]")) {
    tick();
    setInterval(tick, 1000);
  }

  // Opening a case: warn when an obsolete product version is chosen.
  var version = document.querySelector("[data-obsolete-warning]");
  var warning = document.getElementById("obsolete-warning");
  if (version && warning) {
    var check = function () {
      var option = version.options[version.selectedIndex];
      warning.hidden = !(option && option.getAttribute("data-obsolete"));
    };
    version.addEventListener("change", check);
    check();
  }

  // Choosing the partner or process reloads the form (no inline handlers: the
  // Content-Security-Policy allows scripts from our static files only).
  document.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
    select.addEventListener("change", function () { select.form.submit(); });
  });
  document.querySelectorAll("button[data-print]").forEach(function (button) {
    button.addEventListener("click", function () { window.print(); });
  });
})();
