// naq dashboard: live updates and small conveniences. The pages work without this script.
//
// Live: one EventSource on the dashboard's /events. On a "change" event the page re-reads
// itself and swaps in every element marked data-live (matched by id) whose data-topics
// (space-separated stream names; none = any) intersect the changed topics. At most one
// refresh a second; the stream is closed while the tab is hidden and reopened (with a
// refresh) when it is shown again. "reconnecting…" shows while the dashboard or NATS is away.
(function () {
  "use strict";
  var body = document.body;
  var url = body && body.getAttribute("data-events");
  var status = document.getElementById("live-status");
  var source = null, timer = null, last = 0, inFlight = false, pending = null;

  function show(text) { if (status) { status.textContent = text; status.hidden = !text; } }

  function wanted(topics) {
    var nodes = document.querySelectorAll("[data-live]");
    for (var i = 0; i < nodes.length; i++) {
      var t = nodes[i].getAttribute("data-topics");
      if (!t || !topics) return true;
      var mine = t.split(/\s+/);
      for (var j = 0; j < mine.length; j++) if (topics.indexOf(mine[j]) >= 0) return true;
    }
    return false;
  }

  function refresh() {
    if (document.hidden) return;  // caught up when shown again
    if (inFlight) { pending = pending || []; return; }
    inFlight = true; last = Date.now();
    fetch(window.location.href, { headers: { "X-NAQ-Live": "1" }, credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
      .then(function (html) {
        var doc = new DOMParser().parseFromString(html, "text/html");
        var nodes = document.querySelectorAll("[data-live]");
        for (var i = 0; i < nodes.length; i++) {
          var fresh = nodes[i].id && doc.getElementById(nodes[i].id);
          if (fresh && fresh.innerHTML !== nodes[i].innerHTML) nodes[i].innerHTML = fresh.innerHTML;
        }
        body.setAttribute("data-refreshed", String(Date.now()));
      })
      .catch(function () {})
      .then(function () {
        inFlight = false;
        if (pending) { pending = null; schedule(null); }
      });
  }

  function schedule(topics) {
    if (!wanted(topics)) return;
    if (timer) return;
    var wait = Math.max(0, 1000 - (Date.now() - last));
    timer = setTimeout(function () { timer = null; refresh(); }, wait);
  }

  function open() {
    if (!url || source || !window.EventSource || !document.querySelector("[data-live]")) return;
    source = new EventSource(url);
    source.addEventListener("open", function () { show(""); });
    source.addEventListener("error", function () { show("reconnecting…"); });
    source.addEventListener("status", function (e) {
      var data = JSON.parse(e.data);
      show(data.nats === "ok" ? "" : "NATS unreachable, reconnecting…");
      if (data.nats === "ok") schedule(null);
    });
    source.addEventListener("change", function (e) { schedule(JSON.parse(e.data).topics); });
  }

  function close() { if (source) { source.close(); source = null; } }

  document.addEventListener("visibilitychange", function () {
    if (document.hidden) { close(); } else { open(); schedule(null); }
  });

  // A form with data-confirm asks first (the server checks typed confirmations anyway).
  document.addEventListener("submit", function (e) {
    var question = e.target.getAttribute && e.target.getAttribute("data-confirm");
    if (question && !window.confirm(question)) e.preventDefault();
  });

  if (!document.hidden) open();
})();
