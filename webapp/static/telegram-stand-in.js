// A local stand-in for telegram-web-app.js, for a browser outside Telegram (the address `make run`
// prints, and the tests). Same launch data as Telegram gives a Mini App: read from the URL fragment
// (#tgWebAppData=...&tgWebAppThemeParams=...) and kept in sessionStorage across the app's pages,
// the same theme variables on <html>, a BackButton drawn by the page.
(function () {
  "use strict";
  var KEY = "__telegram__initParams";
  function parseHash() {
    var out = {};
    var hash = location.hash.replace(/^#/, "");
    if (!hash) { return out; }
    hash.split("&").forEach(function (part) {
      var i = part.indexOf("=");
      if (i > 0) { out[decodeURIComponent(part.slice(0, i))] = decodeURIComponent(part.slice(i + 1)); }
    });
    return out;
  }
  var params = parseHash();
  if (params.tgWebAppData) {
    try { sessionStorage.setItem(KEY, JSON.stringify(params)); } catch (e) { /* private mode */ }
    history.replaceState(null, "", location.pathname + location.search);
  } else {
    try { params = JSON.parse(sessionStorage.getItem(KEY) || "{}"); } catch (e) { params = {}; }
  }
  var initData = params.tgWebAppData || "";
  var unsafe = {};
  initData.split("&").forEach(function (part) {
    var i = part.indexOf("=");
    if (i > 0) {
      var value = decodeURIComponent(part.slice(i + 1));
      try { value = JSON.parse(value); } catch (e) { /* plain */ }
      unsafe[decodeURIComponent(part.slice(0, i))] = value;
    }
  });
  var theme = {};
  try { theme = JSON.parse(params.tgWebAppThemeParams || "{}"); } catch (e) { theme = {}; }
  var root = document.documentElement;
  Object.keys(theme).forEach(function (name) {
    root.style.setProperty("--tg-theme-" + name.replace(/_/g, "-"), theme[name]);
  });
  var scheme = "light";
  if (theme.bg_color) {
    var hex = theme.bg_color.replace("#", "");
    var rgb = [0, 2, 4].map(function (i) { return parseInt(hex.substr(i, 2), 16); });
    scheme = (0.2126 * rgb[0] + 0.7152 * rgb[1] + 0.0722 * rgb[2]) < 128 ? "dark" : "light";
  }
  root.style.setProperty("--tg-color-scheme", scheme);
  root.style.colorScheme = scheme;
  root.style.setProperty("--tg-viewport-height", window.innerHeight + "px");
  root.style.setProperty("--tg-viewport-stable-height", window.innerHeight + "px");

  var backHandlers = [];
  function backButton() { return document.getElementById("standin-back"); }
  var BackButton = {
    isVisible: false,
    show: function () {
      this.isVisible = true;
      var b = backButton();
      if (b) { b.hidden = false; document.body.classList.add("has-standin-back"); }
      return this;
    },
    hide: function () {
      this.isVisible = false;
      var b = backButton();
      if (b) { b.hidden = true; document.body.classList.remove("has-standin-back"); }
      return this;
    },
    onClick: function (fn) { backHandlers.push(fn); return this; },
    offClick: function (fn) { backHandlers = backHandlers.filter(function (h) { return h !== fn; }); return this; }
  };
  document.addEventListener("click", function (event) {
    if (event.target && event.target.id === "standin-back") { backHandlers.forEach(function (h) { h(); }); }
  });
  function noop() { return this; }
  window.Telegram = { WebApp: {
    initData: initData,
    initDataUnsafe: unsafe,
    version: params.tgWebAppVersion || "8.0",
    platform: params.tgWebAppPlatform || "unknown",
    colorScheme: scheme,
    themeParams: theme,
    viewportHeight: window.innerHeight,
    viewportStableHeight: window.innerHeight,
    isExpanded: true,
    isStandIn: true,
    BackButton: BackButton,
    MainButton: { show: noop, hide: noop, setText: noop, onClick: noop, offClick: noop },
    HapticFeedback: { impactOccurred: noop, notificationOccurred: noop, selectionChanged: noop },
    ready: noop, expand: noop, close: function () { window.close(); },
    onEvent: noop, offEvent: noop,
    showAlert: function (text, done) { window.alert(text); if (done) { done(); } }
  } };
})();
