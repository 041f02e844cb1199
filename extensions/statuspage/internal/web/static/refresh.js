// Refreshes the page's <main> every data-refresh seconds without a full
// reload; pages work without it (a <noscript> meta refresh takes over).
(function () {
  "use strict";
  var secs = parseInt(document.body.getAttribute("data-refresh"), 10) || 5;
  function busy() {
    // Do not pull the page from under a keyboard or screen reader user:
    // skip a refresh while focus is inside the content or the tab is hidden.
    var main = document.getElementById("main");
    var active = document.activeElement;
    return document.hidden || (main && active && active !== document.body && main.contains(active));
  }
  function tick() {
    if (busy()) { window.setTimeout(tick, secs * 1000); return; }
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
