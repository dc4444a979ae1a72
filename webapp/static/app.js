// The page's script: fetch this page's view with the reader's initData, wire its few controls
// (watchlist edits, Protect preview + confirm, CSV download), and refresh it when the server says
// something it shows has changed (server-sent events).
(function () {
  "use strict";
  var tg = window.Telegram.WebApp;
  var main = document.getElementById("app");
  var body = document.body;
  var auth = "tma " + tg.initData;
  var topics = (body.dataset.topics || "").split(",").filter(Boolean);
  var language = ((tg.initDataUnsafe.user && tg.initDataUnsafe.user.language_code) || navigator.language || "es")
    .slice(0, 2) === "en" ? "en" : "es";

  tg.ready();
  tg.expand();
  document.documentElement.lang = language;
  Array.prototype.forEach.call(main.querySelectorAll(".loading"), function (p) { p.hidden = p.lang !== language; });

  if (body.dataset.nested === "true") {
    tg.BackButton.show();
    tg.BackButton.onClick(function () {
      if (history.length > 1) { history.back(); } else { location.href = "/app/"; }
    });
  } else {
    tg.BackButton.hide();
  }

  function api(path, options) {
    options = options || {};
    options.headers = Object.assign({ "Authorization": auth }, options.headers || {});
    return fetch(path, options);
  }

  function showUnauthorized() {
    var template = document.getElementById("unauthorized-" + language);
    main.replaceChildren(template.content.cloneNode(true));
    main.setAttribute("aria-busy", "false");
    body.dataset.state = "unauthorized";
  }

  var loading = null;
  function load() {
    if (!tg.initData) { showUnauthorized(); return Promise.resolve(); }
    if (loading) { return loading; }
    loading = api("/api/views/" + body.dataset.view + location.search).then(function (response) {
      if (response.status === 401) { showUnauthorized(); return; }
      return response.text().then(function (html) {
        if (!response.ok) {
          var message = html;
          try { message = JSON.parse(html).message || message; } catch (e) { /* html */ }
          var p = document.createElement("p");
          p.className = "card down";
          p.textContent = message;
          main.replaceChildren(p);
        } else {
          var scrollY = window.scrollY;
          main.innerHTML = html;
          window.scrollTo(0, scrollY);
          var page = main.firstElementChild;
          if (page && page.dataset.locale) { document.documentElement.lang = page.dataset.locale; }
          wire();
        }
        main.setAttribute("aria-busy", "false");
        body.dataset.state = "ready";
        body.dataset.loads = String(Number(body.dataset.loads || 0) + 1);
      });
    }).catch(function (error) { console.warn("view not loaded", error); })
      .then(function () { loading = null; });
    return loading;
  }

  function wire() {
    Array.prototype.forEach.call(main.querySelectorAll("form[data-watch]"), wireWatch);
    Array.prototype.forEach.call(main.querySelectorAll("[data-download]"), function (link) {
      link.addEventListener("click", function (event) { event.preventDefault(); download(link); });
    });
    Array.prototype.forEach.call(main.querySelectorAll("[data-protect]"), function (button) {
      button.addEventListener("click", function () { protect(button.dataset.protect); });
    });
  }

  function wireWatch(form) {
    var symbol = form.dataset.watch;
    var status = form.querySelector("[data-status]");
    form.addEventListener("submit", function (event) { event.preventDefault(); });
    form.addEventListener("change", function (event) {
      var input = event.target;
      var change = {};
      change[input.name] = input.type === "checkbox" ? input.checked : input.value;
      status.textContent = "…";
      status.className = "status";
      api("/api/watchlist/" + encodeURIComponent(symbol), {
        method: "PATCH", headers: { "Content-Type": "application/json" }, body: JSON.stringify(change)
      }).then(function (response) {
        return response.json().then(function (data) {
          if (response.ok) {
            status.textContent = document.getElementById("saved-text").innerHTML;
            status.className = "status ok";
            input.defaultValue = input.value;
            input.defaultChecked = input.checked;
          } else {
            status.textContent = data.message || data.error;
            status.className = "status error";
            if (input.type === "checkbox") { input.checked = input.defaultChecked; } else { input.value = input.defaultValue; }
          }
        });
      });
    });
  }

  function download(link) {
    api(link.getAttribute("href")).then(function (response) {
      if (!response.ok) { throw new Error("HTTP " + response.status); }
      return response.blob();
    }).then(function (blob) {
      var url = URL.createObjectURL(blob);
      var a = document.createElement("a");
      a.href = url;
      a.download = link.dataset.download;
      document.body.appendChild(a);
      a.click();
      a.remove();
      setTimeout(function () { URL.revokeObjectURL(url); }, 1000);
    }).catch(function (error) { console.warn("download failed", error); });
  }

  function showLines(element, lines) {
    element.replaceChildren();
    (lines || []).forEach(function (line) {
      var p = document.createElement("p");
      p.textContent = line;
      element.appendChild(p);
    });
  }

  function protect(symbol) {
    var dialog = document.getElementById("protect-dialog");
    var preview = dialog.querySelector("[data-preview]");
    var error = dialog.querySelector("[data-error]");
    var confirmButton = dialog.querySelector("[data-confirm]");
    preview.textContent = "…";
    error.textContent = "";
    confirmButton.disabled = true;
    confirmButton.hidden = false;
    dialog.showModal();
    dialog.querySelector("[data-cancel]").onclick = function () { dialog.close(); };
    api("/api/actions/protect", {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ symbol: symbol })
    }).then(function (response) {
      return response.json().then(function (data) {
        if (!response.ok) { preview.textContent = ""; error.textContent = data.message || data.error; return; }
        showLines(preview, data.lines);
        dialog.dataset.actionId = data.action_id;
        confirmButton.disabled = false;
        confirmButton.onclick = function () {
          confirmButton.disabled = true;
          api("/api/actions/" + encodeURIComponent(data.action_id) + "/confirm", { method: "POST" })
            .then(function (r) { return r.json().then(function (result) {
              showLines(preview, result.lines);
              confirmButton.hidden = true;
              dialog.dataset.outcome = result.outcome;
              if (!result.ok) { error.textContent = result.message || ""; }
            }); });
        };
      });
    });
    dialog.addEventListener("close", function () { load(); }, { once: true });
  }

  // Live refresh: a fetch stream (EventSource cannot send the Authorization header).
  function follow() {
    if (!tg.initData || !topics.length || !window.ReadableStream) { return; }
    api("/api/events", { headers: { "Accept": "text/event-stream" } }).then(function (response) {
      if (!response.ok || !response.body) { return; }
      body.dataset.live = "on";
      var reader = response.body.getReader();
      var decoder = new TextDecoder();
      var buffer = "";
      function pump() {
        return reader.read().then(function (chunk) {
          if (chunk.done) { return; }
          buffer += decoder.decode(chunk.value, { stream: true });
          var end;
          while ((end = buffer.indexOf("\n\n")) >= 0) {
            handle(buffer.slice(0, end));
            buffer = buffer.slice(end + 2);
          }
          return pump();
        });
      }
      return pump();
    }).catch(function () { /* the server went away: try again below */ })
      .then(function () { body.dataset.live = "off"; setTimeout(follow, 2000); });
  }

  function handle(message) {
    var event = "message";
    var data = "";
    message.split("\n").forEach(function (line) {
      if (line.indexOf("event:") === 0) { event = line.slice(6).trim(); }
      if (line.indexOf("data:") === 0) { data += line.slice(5).trim(); }
    });
    if (event !== "change") { return; }
    var changed = [];
    try { changed = JSON.parse(data).topics || []; } catch (e) { return; }
    if (changed.some(function (t) { return topics.indexOf(t) >= 0; }) && !document.querySelector("dialog[open]")) {
      load();
    }
  }

  load().then(follow);
})();
