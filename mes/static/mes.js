/* mes page behaviour on top of htmx: expired CSRF recovery, network errors, idle terminals. */
(function () {
  "use strict";

  function setToken(token) {
    var body = document.body;
    var headers = JSON.parse(body.getAttribute("hx-headers") || "{}");
    headers["X-CSRFToken"] = token;
    body.setAttribute("hx-headers", JSON.stringify(headers));
    document.querySelectorAll('input[name="csrf_token"], input[name$="-csrf_token"]').forEach(function (el) { el.value = token; });
  }

  function showError(text) {
    var box = document.getElementById("messages");
    if (!box) return;
    box.innerHTML = "";
    var div = document.createElement("div");
    div.className = "alert error";
    div.setAttribute("role", "alert");
    div.textContent = text;
    box.appendChild(div);
  }

  document.addEventListener("htmx:afterRequest", function (evt) {
    var xhr = evt.detail.xhr;
    if (!xhr || xhr.status !== 400 || xhr.getResponseHeader("X-CSRF-Expired") !== "1") return;
    // A page left open past its session: take the fresh token and send the same request again, once.
    var cfg = evt.detail.requestConfig;
    setToken(xhr.getResponseHeader("X-CSRF-Token"));
    if (cfg && !cfg.headers["X-MES-Retried"]) {
      evt.detail.shouldSwap = false;
      var values = cfg.formData ? Object.fromEntries(cfg.formData.entries()) : cfg.parameters;
      if (values && values.csrf_token !== undefined) values.csrf_token = xhr.getResponseHeader("X-CSRF-Token");
      var token = xhr.getResponseHeader("X-CSRF-Token");
      // After this request has let go of its element (hx-sync would drop a request sent now).
      setTimeout(function () {
        htmx.ajax(cfg.verb.toUpperCase(), cfg.path, {
          source: cfg.elt, target: cfg.target, values: values,
          headers: { "X-MES-Retried": "1", "X-CSRFToken": token }
        });
      }, 0);
    }
  });

  document.addEventListener("htmx:beforeSwap", function (evt) {
    if (evt.detail.xhr && evt.detail.xhr.getResponseHeader("X-CSRF-Expired") === "1" &&
        !(evt.detail.requestConfig && evt.detail.requestConfig.headers["X-MES-Retried"])) {
      evt.detail.shouldSwap = false;
    }
  });

  // Controls that submit their form when changed (the language menu); no inline handlers under the CSP.
  document.addEventListener("change", function (evt) {
    var el = evt.target;
    if (el && el.hasAttribute && el.hasAttribute("data-submit-on-change") && el.form) el.form.submit();
  });

  function networkError(evt) {
    // Floor actions made offline are kept and sent later: the offline banner says so instead.
    var elt = evt && evt.detail && evt.detail.elt;
    if (elt && elt.closest && elt.closest("form[data-queue]")) return;
    showError(document.body.dataset.networkError);
  }
  document.addEventListener("htmx:sendError", networkError);
  document.addEventListener("htmx:timeout", networkError);

  // A terminal whose session ended (inactivity) returns to its login screen by itself.
  if (document.body && document.body.dataset.kiosk === "1") {
    setInterval(function () {
      fetch("/session", { credentials: "same-origin" }).then(function (r) { return r.json(); }).then(function (s) {
        if (!s.authenticated) window.location.href = document.body.dataset.loginUrl;
      }).catch(function () {});
    }, 30000);
  }
  // --- shop floor: numeric keypad, offline banner, reports kept while offline -----------------

  // The on-screen keypad types into the quantity field last touched (the first one by default).
  document.addEventListener("focusin", function (evt) {
    var el = evt.target;
    if (!el.classList || !el.classList.contains("keypad-input")) return;
    var form = el.form;
    if (!form) return;
    form.querySelectorAll(".keypad-target").forEach(function (x) { x.classList.remove("keypad-target"); });
    el.classList.add("keypad-target");
  });
  document.addEventListener("click", function (evt) {
    var key = evt.target.closest ? evt.target.closest("[data-key]") : null;
    if (!key) return;
    var form = key.form || key.closest("form");
    if (!form) return;
    var input = form.querySelector(".keypad-target") || form.querySelector(".keypad-input");
    if (!input) return;
    var k = key.getAttribute("data-key");
    if (k === "clear") input.value = "";
    else if (k === "back") input.value = input.value.slice(0, -1);
    else if (input.value.length < 7) input.value = input.value + k;
    form.querySelectorAll(".keypad-target").forEach(function (x) { x.classList.remove("keypad-target"); });
    input.classList.add("keypad-target");
  });

  var QUEUE = "mes.floor.queue";

  function newKey() {
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }
  function loadQueue() {
    try { return JSON.parse(window.localStorage.getItem(QUEUE) || "[]"); } catch (e) { return []; }
  }
  function saveQueue(items) { window.localStorage.setItem(QUEUE, JSON.stringify(items)); drawQueue(); }

  function drawQueue() {
    var box = document.getElementById("floor-queue");
    if (!box) return;
    var items = loadQueue();
    var list = box.querySelector("ul");
    list.innerHTML = "";
    items.forEach(function (item) {
      var li = document.createElement("li");
      li.textContent = item.label + (item.good ? " · " + item.good : "") + (item.scrap ? " / " + item.scrap : "");
      list.appendChild(li);
    });
    box.hidden = items.length === 0;
  }

  function setOffline(offline) {
    var banner = document.getElementById("offline-banner");
    if (banner) banner.hidden = !offline;
    document.body.classList.toggle("is-offline", offline);
  }

  function csrfToken() {
    try { return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"]; } catch (e) { return ""; }
  }

  // A floor action that could not reach the server is kept, with its key, and sent later.
  document.addEventListener("htmx:sendError", function (evt) {
    var elt = evt.detail.elt;
    var form = elt && elt.closest ? elt.closest("form[data-queue]") : null;
    var cfg = evt.detail.requestConfig;
    if (!form || !cfg || cfg.verb !== "post") return;
    var values = {};
    var data = cfg.formData || new FormData(form);
    data.forEach(function (v, k) { values[k] = v; });
    if (!values.request_key) return;
    var items = loadQueue().filter(function (i) { return i.key !== values.request_key; });
    items.push({ key: values.request_key, url: cfg.path, values: values, at: Date.now(), user: currentUser(),
                 label: elt.getAttribute("data-queue-label") || form.getAttribute("data-queue-label") || cfg.path,
                 good: values.good || "", scrap: values.scrap || "" });
    saveQueue(items);
    // The next tap on this form is a new report: it gets its own key.
    var keyField = form.querySelector('input[name="request_key"]');
    if (keyField) keyField.value = newKey();
    form.querySelectorAll(".keypad-input").forEach(function (x) { x.value = ""; });
    setOffline(true);
  });

  // Reports belong to the worker who made them: on a shared tablet, each is sent only while
  // that worker is logged in (it waits for their next login otherwise).
  function currentUser() {
    var box = document.getElementById("floor-queue");
    return box ? box.getAttribute("data-user") : "";
  }

  var flushing = false;
  function flushQueue() {
    var item = loadQueue().filter(function (i) { return !i.user || i.user === currentUser(); })[0];
    if (flushing || !item) return;
    flushing = true;
    var body = new URLSearchParams();
    Object.keys(item.values).forEach(function (k) { body.append(k, item.values[k]); });
    body.set("csrf_token", csrfToken());
    fetch(item.url, {
      method: "POST", credentials: "same-origin", body: body,
      headers: { "X-CSRFToken": csrfToken(), "HX-Request": "true", "Idempotency-Key": item.key }
    }).then(function (r) {
      flushing = false;
      if (r.status === 400 && r.headers.get("X-CSRF-Expired") === "1") {
        setToken(r.headers.get("X-CSRF-Token"));
        setTimeout(flushQueue, 0);
        return;
      }
      setOffline(false);
      if (r.status === 401) return;  // logged out meanwhile: kept until this worker logs in again
      if (r.status === 409 && (item.tries || 0) < 3) {
        // Perhaps the first send is still being processed: ask again a little later (a 409 that
        // stays is a refusal, e.g. the operation was paused meanwhile, and is shown below).
        saveQueue(loadQueue().map(function (i) { if (i.key === item.key) i.tries = (i.tries || 0) + 1; return i; }));
        setTimeout(flushQueue, 3000);
        return;
      }
      saveQueue(loadQueue().filter(function (i) { return i.key !== item.key; }));
      if (r.status >= 400) {
        r.text().then(function (html) {
          var div = document.createElement("div");
          div.innerHTML = html;
          showError(item.label + ": " + (div.textContent || "").trim());
        });
      }
      if (loadQueue().some(function (i) { return !i.user || i.user === currentUser(); })) { setTimeout(flushQueue, 0); return; }
      var card = document.getElementById("floor-card");
      if (card && window.htmx) htmx.ajax("GET", window.location.pathname, { target: "#floor-card", select: "#floor-card" });
    }).catch(function () { flushing = false; setOffline(true); });
  }

  function checkConnection() {
    if (!document.getElementById("offline-banner")) return;
    if (!navigator.onLine) { setOffline(true); return; }
    fetch("/session", { credentials: "same-origin", cache: "no-store" }).then(function () {
      setOffline(false);
      flushQueue();
    }).catch(function () { setOffline(true); });
  }

  window.addEventListener("offline", function () { setOffline(true); });
  window.addEventListener("online", checkConnection);
  document.addEventListener("htmx:afterRequest", function (evt) {
    if (evt.detail.xhr && evt.detail.xhr.status > 0 && document.getElementById("offline-banner")) {
      setOffline(false);
      if (loadQueue().length) flushQueue();
    }
  });
  function startFloor() {
    if (!document.getElementById("offline-banner")) return;
    drawQueue();
    setOffline(!navigator.onLine);
    checkConnection();
    setInterval(checkConnection, 5000);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", startFloor);
  else startFloor();
})();
