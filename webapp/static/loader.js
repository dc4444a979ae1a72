// Telegram's own web-app script inside Telegram (its bridges exist there), a local stand-in outside
// it; then the page's script. Nothing here reads or sends data.
(function () {
  "use strict";
  var inTelegram = typeof window.TelegramWebviewProxy !== "undefined" ||
    (window.external && "notify" in window.external) || window.parent !== window;
  function load(src, next) {
    var script = document.createElement("script");
    script.src = src;
    script.onload = next;
    script.onerror = next;
    document.head.appendChild(script);
  }
  load(inTelegram ? "https://telegram.org/js/telegram-web-app.js" : "/static/telegram-stand-in.js", function () {
    if (!window.Telegram || !window.Telegram.WebApp) {
      load("/static/telegram-stand-in.js", function () { load("/static/app.js"); });
    } else {
      load("/static/app.js");
    }
  });
})();
