// Dispatcher page: drag a visit onto another technician, between two visits, or onto "Not planned" to move
// it. The drop sends the row's own Move form to the same endpoint (asking for JSON), so the plan service's
// validation decides; a refused move lists the broken rules in words under the row. The Move form stays the
// way to do the same from the keyboard. Small and dependency-free on purpose.
(function () {
  "use strict";
  var board = document.getElementById("plan-board");
  if (!board || !window.fetch || !window.URLSearchParams) return;
  var feedback = document.getElementById("move-feedback");
  var dragged = null;

  function each(list, action) { Array.prototype.forEach.call(list, action); }
  function rowsOf(lane) { return Array.prototype.slice.call(lane.querySelectorAll("tr[data-order]")); }
  function clearMarks() {
    each(board.querySelectorAll(".drop-before, .drop-after, .drop-lane"), function (el) {
      el.classList.remove("drop-before", "drop-after", "drop-lane");
    });
  }

  // Where a drop at the pointer lands: the row to go next to, and whether after it (lower half of the row).
  function spot(event, lane) {
    var row = event.target.closest ? event.target.closest("tr[data-order]") : null;
    if (!row || !lane.contains(row) || row === dragged) return { row: null, after: false };
    var box = row.getBoundingClientRect();
    return { row: row, after: event.clientY > box.top + box.height / 2 };
  }

  function say(text) {
    feedback.textContent = "";
    if (!text) return;
    var note = document.createElement("p");
    note.className = "notice";
    note.setAttribute("role", "status");
    note.textContent = text;
    feedback.appendChild(note);
  }

  function showRefusal(row, message, violations) {
    say("");
    each(board.querySelectorAll("tr.drag-violations"), function (old) { old.parentNode.removeChild(old); });
    var line = document.createElement("tr");
    line.className = "violations drag-violations";
    var cell = document.createElement("td");
    cell.colSpan = row.cells.length;
    var box = document.createElement("div");
    box.className = "field-error";
    box.setAttribute("role", "alert");
    box.id = "drag-err-" + row.dataset.order;
    var heading = document.createElement("p");
    heading.textContent = row.dataset.reference + ": " + message;
    box.appendChild(heading);
    if (violations.length) {
      var list = document.createElement("ul");
      violations.forEach(function (v) {
        var item = document.createElement("li");
        var rule = document.createElement("span");
        rule.className = "rule";
        rule.textContent = v.rule;
        item.appendChild(rule);
        var who = [v.work_order, v.technician].filter(Boolean).join(" · ");
        if (who) item.appendChild(document.createTextNode(" — " + who));
        if (v.detail) item.appendChild(document.createTextNode(" (" + v.detail + ")"));
        list.appendChild(item);
      });
      box.appendChild(list);
    }
    cell.appendChild(box);
    line.appendChild(cell);
    row.parentNode.insertBefore(line, row.nextSibling);
    row.classList.add("invalid");
  }

  function move(row, technician, position) {
    var form = row.querySelector("form.move");
    var body = new URLSearchParams(new FormData(form));
    body.set("technician_id", technician);
    body.set("position", String(position));
    say(board.dataset.moving);
    fetch(form.action, {
      method: "POST",
      body: body,
      credentials: "same-origin",
      headers: { Accept: "application/json" }
    })
      .then(function (response) {
        var type = response.headers.get("content-type") || "";
        if (type.indexOf("application/json") === -1) throw new Error("HTTP " + response.status);
        return response.json().then(function (data) { return { ok: response.ok, data: data }; });
      })
      .then(function (answer) {
        if (answer.ok && answer.data.url) {
          var target = new URL(answer.data.url, window.location.href);
          if (target.pathname + target.search === window.location.pathname + window.location.search) {
            window.location.reload();
          } else {
            window.location.assign(target.href);
          }
          return;
        }
        showRefusal(row, answer.data.message || board.dataset.failed, answer.data.violations || []);
      })
      .catch(function () { showRefusal(row, board.dataset.failed, []); });
  }

  each(board.querySelectorAll("tr[data-order]"), function (row) {
    if (!row.querySelector("form.move")) return;
    row.draggable = true;
    row.classList.add("draggable");
    row.addEventListener("dragstart", function (event) {
      dragged = row;
      row.classList.add("dragging");
      event.dataTransfer.effectAllowed = "move";
      event.dataTransfer.setData("text/plain", row.dataset.reference);
    });
    row.addEventListener("dragend", function () {
      row.classList.remove("dragging");
      clearMarks();
      dragged = null;
    });
  });

  each(board.querySelectorAll("[data-lane]"), function (lane) {
    lane.addEventListener("dragover", function (event) {
      if (!dragged) return;
      event.preventDefault();
      event.dataTransfer.dropEffect = "move";
      clearMarks();
      lane.classList.add("drop-lane");
      var at = spot(event, lane);
      if (at.row) at.row.classList.add(at.after ? "drop-after" : "drop-before");
    });
    lane.addEventListener("dragleave", function (event) {
      if (!lane.contains(event.relatedTarget)) lane.classList.remove("drop-lane");
    });
    lane.addEventListener("drop", function (event) {
      if (!dragged) return;
      event.preventDefault();
      var row = dragged;
      var at = spot(event, lane);
      clearMarks();
      // Positions count from 1 among the lane's other visits (the service takes the visit out first).
      var others = rowsOf(lane).filter(function (r) { return r !== row; });
      var position = at.row ? others.indexOf(at.row) + (at.after ? 2 : 1) : others.length + 1;
      var technician = lane.dataset.lane;
      var from = row.closest("[data-lane]");
      var current = rowsOf(from).indexOf(row) + 1;
      if (from === lane && (technician === "" || position === current)) return;  // dropped where it was
      move(row, technician, position);
    });
  });

  document.getElementById("drag-hint").hidden = false;
})();
