// Keyboard shortcuts of the agent desktop (served from this server, no CDN). Every action is
// also a plain link, button or form on the page: the keys only save the mouse trip.
//   n  next best work item      /  search        r  reply box
//   c  complete form            ?  this help     Esc  close the help, leave a field
(function () {
  "use strict";

  function typing(target) {
    if (!target || !target.tagName) return false;
    var tag = target.tagName.toLowerCase();
    return tag === "input" || tag === "textarea" || tag === "select" || target.isContentEditable;
  }

  function help(show) {
    var box = document.getElementById("shortcut-help");
    if (!box) return;
    box.hidden = show === undefined ? !box.hidden : !show;
    if (!box.hidden) {
      var close = document.getElementById("shortcut-help-close");
      if (close) close.focus();
    }
  }

  function focus(el) {
    if (!el) return false;
    el.scrollIntoView({ block: "center" });
    el.focus();
    return true;
  }

  function nextBest() {
    var form = document.getElementById("shortcut-next");
    if (form) form.submit();
  }

  function completeForm() {
    var form = document.getElementById("step-form");
    if (!form) return false;
    var first = form.querySelector(
      "input:not([type=hidden]):not([disabled]), select:not([disabled]), textarea:not([disabled])"
    );
    return focus(first || document.getElementById("complete"));
  }

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (event.key === "Escape") {
      help(false);
      if (typing(event.target)) event.target.blur();
      return;
    }
    if (typing(event.target)) return;
    var done = true;
    switch (event.key) {
      case "n":
        nextBest();
        break;
      case "/":
        done = focus(document.getElementById("header-search"));
        break;
      case "r":
        done = focus(document.getElementById("reply-text"));
        break;
      case "c":
        done = completeForm();
        break;
      case "?":
        help();
        break;
      default:
        done = false;
    }
    if (done) event.preventDefault();
  });

  document.addEventListener("click", function (event) {
    if (event.target && event.target.id === "shortcut-help-close") help(false);
  });
})();
