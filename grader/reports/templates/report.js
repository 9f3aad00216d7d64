/* The class table: sort by a header's column (click; again for the other way), filter by
   student. Reads only textContent and data-sort, writes no HTML. The URL may ask for both
   (?sort=total or ?sort=-total, ?filter=text), so a link or a test opens the table that way.
   Block comments only: the tests look for two slashes (a URL without its scheme). */
(function () {
  "use strict";
  var table = document.getElementById("class-table");
  if (!table) { return; }
  var body = table.tBodies[0];
  var headers = Array.prototype.slice.call(table.tHead.rows[0].cells);
  var state = {key: "", descending: false};

  function value(row, index, numeric) {
    var raw = row.cells[index].getAttribute("data-sort") || "";
    return numeric ? parseFloat(raw) : raw;
  }

  function sortBy(key, descending) {
    var index = -1;
    headers.forEach(function (th, i) { if (th.getAttribute("data-key") === key) { index = i; } });
    if (index < 0) { return; }
    var numeric = headers[index].getAttribute("data-type") === "num";
    var rows = Array.prototype.slice.call(body.rows);
    rows.forEach(function (row, i) { row.setAttribute("data-position", i); });
    rows.sort(function (a, b) {
      var x = value(a, index, numeric), y = value(b, index, numeric);
      var order = numeric ? x - y : x.localeCompare(y);
      if (descending) { order = -order; }
      return order || a.getAttribute("data-position") - b.getAttribute("data-position");
    });
    rows.forEach(function (row) { body.appendChild(row); });
    headers.forEach(function (th) { th.removeAttribute("aria-sort"); });
    headers[index].setAttribute("aria-sort", descending ? "descending" : "ascending");
    state = {key: key, descending: descending};
    document.documentElement.setAttribute("data-sorted-by", (descending ? "-" : "") + key);
  }

  function filter(text) {
    var wanted = text.trim().toLowerCase();
    var shown = 0;
    Array.prototype.forEach.call(body.rows, function (row) {
      var match = row.cells[0].textContent.toLowerCase().indexOf(wanted) >= 0;
      row.hidden = !match;
      if (match) { shown += 1; }
    });
    var count = document.getElementById("shown-count");
    count.textContent = count.getAttribute("data-template")
      .replace("{shown}", String(shown)).replace("{total}", String(body.rows.length));
  }

  headers.forEach(function (th) {
    th.classList.add("sortable");
    th.tabIndex = 0;
    function toggle() {
      var key = th.getAttribute("data-key");
      var numeric = th.getAttribute("data-type") === "num";
      /* numbers first from the best, names from A; a second click turns it round */
      sortBy(key, state.key === key ? !state.descending : numeric);
    }
    th.addEventListener("click", toggle);
    th.addEventListener("keydown", function (event) {
      if (event.key === "Enter" || event.key === " ") { event.preventDefault(); toggle(); }
    });
  });
  var box = document.getElementById("filter");
  box.addEventListener("input", function () { filter(box.value); });
  document.getElementById("tools").hidden = false;

  var asked = new URLSearchParams(window.location.search);
  var sort = asked.get("sort");
  if (sort) { sortBy(sort.replace(/^-/, ""), sort.charAt(0) === "-"); }
  box.value = asked.get("filter") || "";
  filter(box.value);
}());
