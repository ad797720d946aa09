// Portal: suggest knowledge-base articles while the customer types the subject (debounced), with a
// "this solved my problem" button that counts the deflection. Small and dependency-free on purpose.
(function () {
  "use strict";
  var box = document.getElementById("kb-suggestions");
  var subject = document.getElementById("subject");
  if (!box || !subject || !window.fetch) return;
  var timer = null;
  var last = "";

  function render(items) {
    box.textContent = "";
    if (!items.length) return;
    var heading = document.createElement("p");
    heading.textContent = box.dataset.heading;
    box.appendChild(heading);
    var list = document.createElement("ul");
    list.className = "kb-suggest-list";
    items.forEach(function (item) {
      var li = document.createElement("li");
      var link = document.createElement("a");
      link.href = "/portal/kb/" + item.id;
      link.target = "_blank";
      link.rel = "noopener";
      link.textContent = item.title;
      li.appendChild(link);
      if (item.summary) {
        var summary = document.createElement("span");
        summary.className = "muted";
        summary.textContent = " " + item.summary;
        li.appendChild(summary);
      }
      var solved = document.createElement("button");
      solved.type = "button";
      solved.className = "link";
      solved.textContent = box.dataset.solved;
      solved.addEventListener("click", function () {
        var headers = {};
        if (box.dataset.csrf) headers["X-CSRF-Token"] = box.dataset.csrf;
        fetch("/api/v1/kb/articles/" + item.id + "/deflect", { method: "POST", headers: headers, credentials: "same-origin" })
          .then(function () { box.textContent = box.dataset.thanks; });
      });
      li.appendChild(document.createTextNode(" "));
      li.appendChild(solved);
      list.appendChild(li);
    });
    box.appendChild(list);
  }

  function ask() {
    var q = subject.value.trim();
    if (q === last) return;
    last = q;
    if (q.length < 4) { render([]); return; }
    fetch("/api/v1/kb/suggest?limit=3&q=" + encodeURIComponent(q), { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : []; })
      .then(function (items) { if (subject.value.trim() === q) render(items); })
      .catch(function () {});
  }

  subject.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(ask, 300);
  });
})();
