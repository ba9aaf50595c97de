/* Keyboard shortcuts of the reviewer pages; each page lists them. A separate file, since the
   pages' Content-Security-Policy runs no inline script. */
(function () {
  "use strict";

  function typingIn(target) {
    return target instanceof Element && target.closest("input, textarea, select, [contenteditable]") !== null;
  }

  function runLinks() {
    return Array.prototype.slice.call(document.querySelectorAll("a.run-link"));
  }

  function move(step) {
    var links = runLinks();
    if (!links.length) return false;
    var at = links.indexOf(document.activeElement);
    var next = at < 0 ? (step > 0 ? 0 : links.length - 1) : Math.min(links.length - 1, Math.max(0, at + step));
    links[next].focus();
    return true;
  }

  function press(selector) {
    var element = document.querySelector(selector);
    if (!element) return false;
    element.click();
    return true;
  }

  function focusHint() {
    var hint = document.getElementById("hint");
    if (!hint) return false;
    hint.focus();
    return true;
  }

  var keys = {
    j: function () { return move(1); },
    k: function () { return move(-1); },
    a: function () { return press("form.verdict button[value=approved]"); },
    r: focusHint,
    n: function () { return press("a[rel=next]"); },
    q: function () { return press("a.to-queue"); }
  };

  document.addEventListener("keydown", function (event) {
    if (event.altKey || event.metaKey) return;
    if (event.target instanceof Element && event.target.id === "hint") {
      if (event.key === "Escape") {
        event.target.blur();
        event.preventDefault();
      } else if (event.key === "Enter" && event.ctrlKey) {
        press("form.verdict button[value=rejected]");
        event.preventDefault();
      }
      return;
    }
    if (event.ctrlKey || typingIn(event.target)) return;
    var action = keys[event.key];
    if (action && action()) event.preventDefault();
  });

  /* The queue refreshes itself; keep the selected run selected across a refresh. */
  var selected = null;
  document.addEventListener("htmx:beforeSwap", function () {
    var active = document.activeElement;
    selected = active && active.classList && active.classList.contains("run-link") ? active.getAttribute("data-run") : null;
  });
  document.addEventListener("htmx:afterSwap", function () {
    if (!selected) return;
    var again = document.querySelector('a.run-link[data-run="' + selected + '"]');
    if (again) again.focus();
  });
})();
