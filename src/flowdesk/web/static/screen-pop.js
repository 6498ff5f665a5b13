/* Screen-pop: the desktop asks every two seconds whether its agent answered a call (or took a
 * transferred one) and opens that case's page. The cursor lives in sessionStorage so a pop that
 * comes while a page loads is not lost, and nothing from before the desktop opened pops. */
(function () {
  "use strict";
  var KEY = "flowdesk-screen-pop";
  function ask(after) {
    fetch("/api/v1/me/screen-pop?after=" + after, { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) {
        if (!data) return;
        sessionStorage.setItem(KEY, String(data.cursor));
        var pop = data.pops.filter(function (p) { return p.url; }).pop();
        if (pop && location.pathname !== pop.url) { location.assign(pop.url); return; }
        setTimeout(function () { ask(data.cursor); }, 2000);
      })
      .catch(function () { setTimeout(function () { ask(after); }, 5000); });
  }
  var saved = sessionStorage.getItem(KEY);
  ask(saved === null ? -1 : Number(saved));
})();
