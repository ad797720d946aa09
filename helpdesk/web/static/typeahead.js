// Customer type-ahead for the phone-ticket form: asks /api/v1/customers?q= as the agent types and fills
// the hidden customer_id. Arrow keys move, Enter picks, Escape closes. Without it, type the e-mail.
(function () {
  "use strict";
  var input = document.getElementById("customer-search");
  var list = document.getElementById("customer-results");
  var hidden = document.getElementById("customer-id");
  if (!input || !list || !hidden) return;
  var timer = null, items = [], active = -1;

  function close() { list.hidden = true; input.setAttribute("aria-expanded", "false"); active = -1; }
  function pick(index) {
    var c = items[index];
    if (!c) return;
    hidden.value = c.id;
    input.value = (c.name || c.email) + " <" + c.email + ">";
    close();
    var subject = document.getElementById("subject");
    if (subject) subject.focus();
  }
  function render() {
    list.innerHTML = "";
    items.forEach(function (c, i) {
      var li = document.createElement("li");
      li.id = "customer-option-" + i;
      li.setAttribute("role", "option");
      li.textContent = (c.name || c.email) + " \u2014 " + c.email;
      if (i === active) { li.setAttribute("aria-selected", "true"); input.setAttribute("aria-activedescendant", li.id); }
      li.addEventListener("mousedown", function (e) { e.preventDefault(); pick(i); });
      list.appendChild(li);
    });
    list.hidden = items.length === 0;
    input.setAttribute("aria-expanded", items.length ? "true" : "false");
  }
  input.addEventListener("input", function () {
    hidden.value = "";
    clearTimeout(timer);
    var q = input.value.trim();
    if (q.length < 2) { items = []; render(); return; }
    timer = setTimeout(function () {
      fetch(input.dataset.typeahead + encodeURIComponent(q), { credentials: "same-origin", headers: { "Accept": "application/json" } })
        .then(function (r) { return r.ok ? r.json() : []; })
        .then(function (data) { items = data; active = data.length ? 0 : -1; render(); })
        .catch(function () {});
    }, 150);
  });
  input.addEventListener("keydown", function (e) {
    if (list.hidden) return;
    if (e.key === "ArrowDown") { active = Math.min(active + 1, items.length - 1); render(); e.preventDefault(); }
    else if (e.key === "ArrowUp") { active = Math.max(active - 1, 0); render(); e.preventDefault(); }
    else if (e.key === "Enter") { pick(active); e.preventDefault(); }
    else if (e.key === "Escape") { close(); }
  });
  input.addEventListener("blur", function () { setTimeout(close, 100); });
})();
