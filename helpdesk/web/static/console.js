// Agent console: SLA countdowns that tick, keyboard navigation (j/k/Enter/x), and live queue updates
// over server-sent events. The pages work without it; this only keeps them current.
(function () {
  "use strict";
  var body = document.body;
  var serverNow = Date.parse(body.dataset.now || "");
  var offset = isNaN(serverNow) ? 0 : serverNow - Date.now();
  var units = (body.dataset.units || "d h m").split(" ");

  function text(seconds) {
    var sign = seconds < 0 ? "\u2212" : "";
    var minutes = Math.floor(Math.abs(seconds) / 60);
    var days = Math.floor(minutes / 1440), hours = Math.floor((minutes % 1440) / 60), mins = minutes % 60;
    if (days) return sign + days + units[0] + " " + hours + units[1];
    if (hours) return sign + hours + units[1] + " " + mins + units[2];
    return sign + mins + units[2];
  }

  function tick() {
    var now = Date.now() + offset;
    document.querySelectorAll("time.countdown[data-due]").forEach(function (el) {
      if (el.classList.contains("paused")) return;
      var due = Date.parse(el.dataset.due), warn = Date.parse(el.dataset.warn || "");
      var state = now >= due ? "breached" : (!isNaN(warn) && now >= warn ? "warning" : "ok");
      el.classList.remove("ok", "warning", "breached");
      el.classList.add(state);
      var left = el.querySelector(".left");
      if (left) left.textContent = text((due - now) / 1000);
    });
  }
  tick();
  setInterval(tick, 15000);

  // On a phone the filters fold away so the tickets come first (the summary opens them); wider, they are always
  // open, since their summary is hidden there. Without this script they stay open on a phone too.
  var panel = document.querySelector("details.filter-panel");
  if (panel && window.matchMedia) {
    var phone = window.matchMedia("(max-width: 40rem)");
    var fold = function () { panel.open = !phone.matches; };
    fold();
    phone.addEventListener("change", fold);
  }

  // Keyboard: j/k move between rows, Enter opens, x ticks the row's box.
  var current = -1;
  function rows() { return Array.prototype.slice.call(document.querySelectorAll("#rows tr[data-href]")); }
  function focusRow(index, keepFocus) {
    var all = rows();
    if (!all.length) { current = -1; return; }
    current = Math.max(0, Math.min(index, all.length - 1));
    all.forEach(function (r) { r.classList.remove("cursor"); });
    all[current].classList.add("cursor");
    var link = all[current].querySelector("td.subject a");
    if (link && !keepFocus) link.focus();
  }
  document.addEventListener("keydown", function (event) {
    var tag = (event.target.tagName || "").toLowerCase();
    if (tag === "input" || tag === "textarea" || tag === "select" || event.ctrlKey || event.metaKey || event.altKey) return;
    if (!document.getElementById("rows")) return;
    if (event.key === "j") { focusRow(current + 1); event.preventDefault(); }
    else if (event.key === "k") { focusRow(current - 1); event.preventDefault(); }
    else if (event.key === "x" && current >= 0) {
      var box = rows()[current].querySelector("input[type=checkbox]");
      if (box) box.checked = !box.checked;
    } else if (event.key === "Enter" && current >= 0 && tag !== "a") {
      window.location = rows()[current].dataset.href;
    }
  });
  var all = document.getElementById("select-all");
  if (all) all.addEventListener("change", function () {
    rows().forEach(function (r) { var b = r.querySelector("input[type=checkbox]"); if (b) b.checked = all.checked; });
  });

  // Live: on any ticket event, fetch the rows of the current page again and say what is new.
  var tbody = document.getElementById("rows");
  var live = document.getElementById("live");
  if (tbody && window.EventSource) {
    var pending = null;
    var refresh = function () {
      pending = null;
      var before = {};
      rows().forEach(function (r) { before[r.dataset.id] = true; });
      var src = tbody.dataset.src + (tbody.dataset.src.indexOf("?") >= 0 ? "&" : "?") + "partial=rows";
      fetch(src, { credentials: "same-origin", headers: { "Accept": "text/html" } })
        .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
        .then(function (html) {
          var ticked = {};
          tbody.querySelectorAll("input[type=checkbox]:checked").forEach(function (b) { ticked[b.value.split(":")[0]] = true; });
          // The highlighted ticket stays highlighted (and focused, if it was); one that left the list hands
          // the highlight to whichever row now has its place.
          var cursor = current >= 0 ? rows()[current] || null : null;
          var hadFocus = tbody.contains(document.activeElement);
          tbody.innerHTML = html;
          var fresh = 0;
          rows().forEach(function (r) {
            if (!before[r.dataset.id]) { r.classList.add("fresh"); fresh++; }
            var b = r.querySelector("input[type=checkbox]");
            if (b && ticked[r.dataset.id]) b.checked = true;
          });
          if (cursor) {
            var ids = rows().map(function (r) { return r.dataset.id; });
            var kept = ids.indexOf(cursor.dataset.id);
            focusRow(kept >= 0 ? kept : current, !hadFocus);
          }
          if (fresh && live) { live.hidden = false; live.textContent = live.dataset.fresh ? live.dataset.fresh.replace("{n}", fresh) : fresh + " new"; }
          tick();
        })
        .catch(function () {});
    };
    var source = new EventSource("/live/tickets");
    source.addEventListener("ticket", function () {
      if (!pending) pending = setTimeout(refresh, 300);
    });
  }
})();
