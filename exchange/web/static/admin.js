// Member admin pages: small enhancements only; every form works without this file.
//
// List editors: a <template data-rows-template="NAME"> holds one blank row whose field
// names and ids carry "__i__"; a button [data-add-row="NAME"] appends a copy with the
// next free index to [data-rows="NAME"]. Rows with a [data-remove-row] button go away
// on click (without JavaScript, their "Remove" checkbox does the same on save).
(function () {
  "use strict";

  function nextIndex(container) {
    var max = -1;
    container.querySelectorAll("[data-row-index]").forEach(function (row) {
      max = Math.max(max, parseInt(row.getAttribute("data-row-index"), 10));
    });
    return max + 1;
  }

  function addRow(name) {
    var template = document.querySelector('template[data-rows-template="' + name + '"]');
    var container = document.querySelector('[data-rows="' + name + '"]');
    if (!template || !container) return;
    var index = String(nextIndex(container));
    var html = template.innerHTML.replace(/__i__/g, index).replace(/__n__/g, String(Number(index) + 1));
    var holder = document.createElement("div");
    holder.innerHTML = html.trim();
    var row = holder.firstElementChild;
    row.querySelectorAll("[data-remove-row]").forEach(function (el) { el.hidden = false; });
    container.appendChild(row);
    var first = row.querySelector("input:not([type=hidden]):not([type=checkbox]), select, textarea");
    if (first) first.focus();
  }

  document.addEventListener("click", function (event) {
    var add = event.target.closest("[data-add-row]");
    if (add) {
      event.preventDefault();
      addRow(add.getAttribute("data-add-row"));
      return;
    }
    var remove = event.target.closest("[data-remove-row]");
    if (remove) {
      event.preventDefault();
      var row = remove.closest("[data-row-index]");
      if (row) row.remove();
      return;
    }
    var copy = event.target.closest("[data-copy]");
    if (copy && navigator.clipboard) {
      var source = document.getElementById(copy.getAttribute("data-copy"));
      if (source) {
        navigator.clipboard.writeText(source.textContent.trim()).then(function () {
          copy.textContent = "Copied";
        });
      }
    }
  });

  document.addEventListener("DOMContentLoaded", function () {
    // Buttons that need JavaScript stay hidden without it.
    document.querySelectorAll("[data-add-row], [data-remove-row], [data-copy]").forEach(function (el) {
      el.hidden = false;
    });
    // With the remove buttons available, the no-JS "Remove" checkboxes are clutter.
    document.querySelectorAll("[data-remove-check]").forEach(function (el) {
      el.hidden = true;
    });
    // A destructive button asks first.
    document.querySelectorAll("form[data-confirm]").forEach(function (form) {
      form.addEventListener("submit", function (event) {
        if (!window.confirm(form.getAttribute("data-confirm"))) event.preventDefault();
      });
    });
  });
})();
