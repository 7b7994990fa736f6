// Charts with a trailing window redraw themselves every minute. Everything
// else works without this script.
(function () {
  "use strict";
  function refresh() {
    document.querySelectorAll("img[data-refresh]").forEach(function (img) {
      var u = new URL(img.getAttribute("src"), location.href);
      u.searchParams.set("r", String(Math.floor(Date.now() / 1000)));
      // Load off-screen first so the old chart stays until the new one is in.
      var next = new Image();
      next.onload = function () { img.src = next.src; };
      next.src = u.pathname + u.search;
    });
  }
  setInterval(refresh, 60000);
  window.graphmetricsRefresh = refresh; // for tests
})();
