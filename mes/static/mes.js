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

  function networkError() { showError(document.body.dataset.networkError); }
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
})();
