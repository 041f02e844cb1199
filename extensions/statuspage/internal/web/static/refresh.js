// Refreshes the page's <main> every data-refresh seconds without a full
// reload; pages work without it (a <noscript> meta refresh takes over).
(function () {
  "use strict";
  var secs = parseInt(document.body.getAttribute("data-refresh"), 10) || 5;
  function tick() {
    fetch(window.location.href, { headers: { "Accept": "text/html" }, cache: "no-store" })
      .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
      .then(function (html) {
        var doc = new DOMParser().parseFromString(html, "text/html");
        var next = doc.getElementById("main");
        var cur = document.getElementById("main");
        if (next && cur) { cur.innerHTML = next.innerHTML; }
      })
      .catch(function () { /* keep the last page; try again next tick */ })
      .then(function () { window.setTimeout(tick, secs * 1000); });
  }
  window.setTimeout(tick, secs * 1000);
})();
