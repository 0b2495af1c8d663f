/* The planner board: click or Enter on a bar shows its details and highlights its route; on a
   draft, drag a bar to another place or machine (or choose them in the form) to move it. */
(function () {
  "use strict";
  var LABEL_WIDTH = 120;

  function svg() { return document.querySelector("#board svg.gantt"); }

  var TIMES = { start: 1, end: 1, due: 1 };
  var formatters = {};

  // Times travel as ISO strings; the browser shows them in the plant's time zone and the page's language.
  function moment(iso) {
    var s = svg();
    var key = s.dataset.lang + "|" + s.dataset.tz;
    if (!formatters[key]) {
      try {
        formatters[key] = new Intl.DateTimeFormat(s.dataset.lang, { timeZone: s.dataset.tz, month: "2-digit", day: "2-digit",
          hour: "2-digit", minute: "2-digit", hour12: false });
      } catch (e) {
        formatters[key] = new Intl.DateTimeFormat(s.dataset.lang, { month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit" });
      }
    }
    var d = new Date(iso);
    return isNaN(d.getTime()) ? "" : formatters[key].format(d);
  }

  function select(g) {
    var s = svg(), panel = document.getElementById("board-detail");
    if (!s || !panel) return;
    s.querySelectorAll("g.op.selected, g.op.route").forEach(function (x) { x.classList.remove("selected", "route"); });
    s.classList.add("has-selection");
    g.classList.add("selected");
    var route = Array.prototype.slice.call(s.querySelectorAll('g.op[data-order="' + g.dataset.order + '"]'));
    route.forEach(function (x) { x.classList.add("route"); });
    panel.hidden = false;
    panel.querySelectorAll("[data-field]").forEach(function (el) {
      var key = el.getAttribute("data-field").replace(/-([a-z])/g, function (_m, c) { return c.toUpperCase(); });
      var value = g.dataset[key] || "";
      el.textContent = TIMES[key] ? moment(value) : value;
    });
    panel.querySelector(".pinned-note").hidden = g.dataset.pinned !== "1";
    var list = panel.querySelector("ol.route");
    list.innerHTML = "";
    route.sort(function (a, b) { return Number(a.dataset.seq) - Number(b.dataset.seq); });
    route.forEach(function (x) {
      var li = document.createElement("li");
      li.textContent = x.dataset.seq + " " + x.dataset.name + " · " + x.dataset.machineCode + " · " + moment(x.dataset.start);
      if (x === g) li.className = "current";
      list.appendChild(li);
    });
    var form = document.getElementById("move-form");
    if (form) {
      form.hidden = g.dataset.started === "1";
      form.elements.operation_id.value = g.dataset.op;
      var eligible = (g.dataset.eligible || "").split(",");
      Array.prototype.forEach.call(form.elements.machine_id.options, function (o) {
        o.disabled = eligible.indexOf(o.value) < 0;
      });
      form.elements.machine_id.value = g.dataset.machine;
      form.elements.position.value = String(position(g.dataset.machine, g) + 1);
      form.elements.start_at.value = "";
    }
    var unpin = document.getElementById("unpin-form");
    if (unpin) {
      unpin.hidden = g.dataset.pinned !== "1";
      unpin.elements.operation_id.value = g.dataset.op;
    }
  }

  function barsOn(machine) {
    var s = svg();
    return Array.prototype.slice.call(s.querySelectorAll('g.op[data-machine="' + machine + '"]'))
      .sort(function (a, b) { return x(a) - x(b); });
  }

  function x(g) { return Number(g.querySelector("rect.bar").getAttribute("x")); }

  // The place in the machine's queue a bar has (or would have at screen x ``at``).
  function position(machine, g, at) {
    var bars = barsOn(machine).filter(function (b) { return b !== g; });
    var ref = at === undefined ? x(g) : at;
    var n = 0;
    bars.forEach(function (b) { if (x(b) < ref) n += 1; });
    return n;
  }

  function laneAt(clientX, clientY) {
    var el = document.elementFromPoint(clientX, clientY);
    while (el && el !== document.body) {
      if (el.matches && el.matches("rect.lane")) return el;
      if (el.matches && el.matches("g.op")) {
        return svg().querySelector('rect.lane[data-machine="' + el.dataset.machine + '"]');
      }
      el = el.parentNode;
    }
    return null;
  }

  var drag = null;

  document.addEventListener("pointerdown", function (e) {
    var g = e.target.closest && e.target.closest("#board svg.gantt g.op");
    if (!g) return;
    select(g);
    if (!document.getElementById("move-form") || g.dataset.started === "1" || e.button !== 0) return;
    drag = { g: g, x0: e.clientX, y0: e.clientY, moved: false };
  });

  document.addEventListener("pointermove", function (e) {
    if (!drag) return;
    var dx = e.clientX - drag.x0, dy = e.clientY - drag.y0;
    if (!drag.moved && Math.abs(dx) + Math.abs(dy) < 6) return;
    drag.moved = true;
    drag.g.classList.add("dragging");
    drag.g.setAttribute("transform", "translate(" + dx + "," + dy + ")");
    svg().querySelectorAll("rect.lane.drop").forEach(function (l) { l.classList.remove("drop"); });
    drag.g.style.pointerEvents = "none";
    var lane = laneAt(e.clientX, e.clientY);
    drag.g.style.pointerEvents = "";
    if (lane) lane.classList.add("drop");
  });

  document.addEventListener("pointerup", function (e) {
    if (!drag) return;
    var d = drag;
    drag = null;
    d.g.classList.remove("dragging");
    d.g.removeAttribute("transform");
    svg().querySelectorAll("rect.lane.drop").forEach(function (l) { l.classList.remove("drop"); });
    if (!d.moved) return;
    d.g.style.pointerEvents = "none";
    var lane = laneAt(e.clientX, e.clientY);
    d.g.style.pointerEvents = "";
    if (!lane) return;
    var rect = svg().getBoundingClientRect();
    var at = x(d.g) + (e.clientX - d.x0);
    var form = document.getElementById("move-form");
    var machine = lane.getAttribute("data-machine");
    form.elements.machine_id.value = machine;
    form.elements.position.value = String(position(machine, d.g, Math.max(LABEL_WIDTH, at)) + 1);
    if (rect && form.requestSubmit) form.requestSubmit(); else form.submit();
  });

  document.addEventListener("keydown", function (e) {
    var g = e.target.closest && e.target.closest("#board svg.gantt g.op");
    if (g && (e.key === "Enter" || e.key === " ")) {
      e.preventDefault();
      select(g);
      var form = document.getElementById("move-form");
      if (form && !form.hidden) form.elements.machine_id.focus();
    }
  });
})();
