/* qa-bot chat widget: one <script> tag draws a chat bubble that opens a panel.
 *
 *   <script src="http://BOT/widget.js" data-api-key="KEY" data-title="Ask our documents" defer></script>
 *
 * Everything lives in a shadow root, so the host page's CSS does not reach it and its CSS does not
 * leak out. data-mode="inline" draws the panel open inside data-target (the bot's own page at /).
 * Plain JavaScript, no build step, nothing fetched from anywhere but the bot.
 */
(function () {
  "use strict";
  var script = document.currentScript;
  var base = new URL(script.src, location.href).origin;
  var opts = script.dataset || {};
  var apiKey = opts.apiKey || (location.hash.match(/key=([^&]+)/) || [])[1] || "";
  var inline = opts.mode === "inline";
  var title = opts.title || "Ask the documents";
  var storeKey = "qa-bot-session:" + base;

  var CSS = [
    // the host page's rules reach the host element, and through it whatever inherits: reset it, winning even over !important
    ":host{all:initial !important;display:block !important}",
    ":host(.inline){height:100% !important}",
    ".wrap{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;font-size:15px;line-height:1.45;color:#1c2430;text-align:left}",
    "*{box-sizing:border-box}",
    ".bubble{position:fixed;right:20px;bottom:20px;width:56px;height:56px;border-radius:50%;border:0;background:#1f5eff;color:#fff;",
    " font-size:26px;cursor:pointer;box-shadow:0 4px 14px rgba(0,0,0,.25);z-index:2147483646}",
    ".bubble:focus-visible{outline:3px solid #9bb7ff;outline-offset:2px}",
    ".panel{position:fixed;right:20px;bottom:88px;width:min(380px,calc(100vw - 24px));height:min(560px,calc(100vh - 112px));",
    " background:#fff;border-radius:14px;box-shadow:0 10px 40px rgba(0,0,0,.25);display:flex;flex-direction:column;overflow:hidden;z-index:2147483647}",
    ".panel[hidden]{display:none}",
    ".wrap.inline{height:100%}",
    ".inline .panel{position:static;width:100%;height:100%;box-shadow:none;border-radius:0}",
    "header{background:#1f5eff;color:#fff;padding:12px 16px;font-weight:600;display:flex;justify-content:space-between;align-items:center}",
    "header button{background:none;border:0;color:#fff;font-size:20px;cursor:pointer;line-height:1}",
    ".log{flex:1;overflow-y:auto;padding:12px 14px;display:flex;flex-direction:column;gap:10px;background:#f6f8fb}",
    ".msg{max-width:92%;padding:9px 12px;border-radius:12px;white-space:pre-wrap;word-wrap:break-word}",
    ".user{align-self:flex-end;background:#1f5eff;color:#fff;border-bottom-right-radius:4px}",
    ".bot{align-self:flex-start;background:#fff;border:1px solid #dfe4ec;border-bottom-left-radius:4px}",
    ".answer{font-weight:600}",
    ".none{font-weight:600;color:#8a4b00}",
    ".meta{font-size:12px;color:#5b6675;margin-top:4px}",
    ".sources{margin:8px 0 0;padding:0;list-style:none;display:flex;flex-direction:column;gap:6px}",
    ".sources li{font-size:13px;background:#f6f8fb;border-left:3px solid #b9c6de;padding:6px 8px;border-radius:4px}",
    ".sources .doc{display:block;font-size:11px;color:#5b6675}",
    "a.doc{color:#1f5eff;text-decoration:underline}",
    ".rate{margin-top:6px;display:flex;gap:6px;align-items:center;font-size:12px;color:#5b6675}",
    ".rate button{border:1px solid #dfe4ec;background:#fff;border-radius:6px;cursor:pointer;font-size:14px;padding:2px 8px}",
    ".rate button:disabled{opacity:.5;cursor:default}",
    ".fix{display:flex;gap:6px;margin-top:6px;padding:0;border:0;background:none}",
    ".fix input{flex:1;font:inherit;font-size:12px;padding:4px 8px;border:1px solid #dfe4ec;border-radius:6px}",
    ".fix button{font-size:12px;padding:4px 10px}",
    "mark{background:#ffe58a;color:inherit;padding:0 1px;border-radius:2px}",
    ".typing span{display:inline-block;width:7px;height:7px;margin:0 2px;border-radius:50%;background:#8d99ab;animation:blink 1.2s infinite}",
    ".typing span:nth-child(2){animation-delay:.2s}.typing span:nth-child(3){animation-delay:.4s}",
    "@keyframes blink{0%,80%,100%{opacity:.25}40%{opacity:1}}",
    ".error{color:#a40000}",
    "form{display:flex;gap:8px;padding:10px;border-top:1px solid #dfe4ec;background:#fff}",
    "input{flex:1;min-width:0;font:inherit;padding:9px 11px;border:1px solid #c5cdda;border-radius:8px}",
    "input:focus{outline:2px solid #1f5eff;border-color:transparent}",
    "form button{font:inherit;padding:8px 14px;border:0;border-radius:8px;background:#1f5eff;color:#fff;cursor:pointer}",
    "form button:disabled{opacity:.6;cursor:default}",
    "@media (max-width:480px){.panel{right:0;bottom:0;width:100vw;height:100vh;border-radius:0}.bubble{right:14px;bottom:14px}}"
  ].join("\n");

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text != null) e.textContent = text;
    return e;
  }

  var host = el("div");
  host.id = "qa-bot-widget";
  if (inline) host.className = "inline";
  var target = inline && opts.target ? document.querySelector(opts.target) : null;
  (target || document.body).appendChild(host);
  var root = host.attachShadow({ mode: "open" });
  var style = el("style");
  style.textContent = CSS;
  root.appendChild(style);
  var wrap = el("div", inline ? "wrap inline" : "wrap");
  root.appendChild(wrap);

  var bubble = el("button", "bubble", "\u{1F4AC}");
  bubble.type = "button";
  bubble.setAttribute("aria-label", "Open the chat");
  var panel = el("section", "panel");
  panel.setAttribute("role", "dialog");
  panel.setAttribute("aria-label", title);
  var header = el("header");
  header.appendChild(el("span", "", title));
  var close = el("button", "", "\u00D7");
  close.type = "button";
  close.setAttribute("aria-label", "Close the chat");
  header.appendChild(close);
  var log = el("div", "log");
  log.setAttribute("role", "log");
  log.setAttribute("aria-live", "polite");
  var form = el("form");
  var input = el("input");
  input.type = "text";
  input.name = "question";
  input.placeholder = "Ask a question\u2026";
  input.setAttribute("aria-label", "Your question");
  input.autocomplete = "off";
  var send = el("button", "", "Send");
  send.type = "submit";
  form.appendChild(input);
  form.appendChild(send);
  panel.appendChild(header);
  panel.appendChild(log);
  panel.appendChild(form);
  if (!inline) {
    panel.hidden = true;
    wrap.appendChild(bubble);
  } else {
    close.hidden = true;
  }
  wrap.appendChild(panel);

  function open() { panel.hidden = false; bubble.setAttribute("aria-expanded", "true"); input.focus(); }
  function shut() { panel.hidden = true; bubble.setAttribute("aria-expanded", "false"); bubble.focus(); }
  bubble.addEventListener("click", function () { panel.hidden ? open() : shut(); });
  close.addEventListener("click", shut);
  panel.addEventListener("keydown", function (e) { if (e.key === "Escape" && !inline) shut(); });

  function call(method, path, body) {
    var headers = { "Content-Type": "application/json" };
    if (apiKey) headers.Authorization = "Bearer " + apiKey;
    return fetch(base + path, { method: method, headers: headers, body: body ? JSON.stringify(body) : undefined })
      .then(function (r) {
        return r.json().catch(function () { return {}; }).then(function (data) {
          if (!r.ok) {
            var err = new Error((data.error && data.error.message) || ("HTTP " + r.status));
            err.status = r.status;
            throw err;
          }
          return data;
        });
      });
  }

  var session = null;
  try { session = sessionStorage.getItem(storeKey); } catch (e) { /* storage may be blocked */ }

  function startSession() {
    return call("POST", "/v1/sessions").then(function (d) {
      session = d.id;
      try { sessionStorage.setItem(storeKey, session); } catch (e) { /* ignore */ }
      return session;
    });
  }

  function ask(question) {
    var go = function () { return call("POST", "/v1/sessions/" + encodeURIComponent(session) + "/messages", { question: question }); };
    return (session ? go() : startSession().then(go)).catch(function (e) {
      if (e.status === 404) return startSession().then(go);  // the conversation expired: start anew
      throw e;
    });
  }

  function highlighted(source, evidence) {
    var li = el("li");
    var name = source.doc.split("/").pop();
    if (source.link) {  // the passage in its document, on a page of the bot's
      var a = el("a", "doc", name);
      a.href = base + source.link;
      a.target = "_blank";
      a.rel = "noopener";
      a.title = "Open " + name + " at this passage";
      li.appendChild(a);
    } else {
      li.appendChild(el("span", "doc", name));
    }
    var text = source.text;
    if (evidence && evidence.doc === source.doc && evidence.start >= source.start && evidence.end <= source.end) {
      var a = evidence.start - source.start, b = evidence.end - source.start;
      li.appendChild(document.createTextNode(text.slice(0, a)));
      li.appendChild(el("mark", "", text.slice(a, b)));
      li.appendChild(document.createTextNode(text.slice(b)));
    } else {
      li.appendChild(document.createTextNode(text));
    }
    return li;
  }

  function show(answer) {
    var m = el("div", "msg bot");
    if (answer.abstained) {
      m.appendChild(el("div", "none", "The documents do not answer this."));
      if (answer.sources.length) m.appendChild(el("div", "meta", "Nearest passages:"));
    } else {
      m.appendChild(el("div", "answer", answer.answer));
      m.appendChild(el("div", "meta", "confidence " + Math.round(answer.confidence * 100) + "%"));
    }
    var list = el("ol", "sources");
    answer.sources.slice(0, answer.abstained ? 2 : 3).forEach(function (s, i) {
      list.appendChild(highlighted(s, i === 0 && !answer.abstained ? answer.evidence : null));
    });
    m.appendChild(list);
    if (answer.answer_id) m.appendChild(rating(answer.answer_id));
    log.appendChild(m);
  }

  function rating(answerId) {
    // thumbs up or down: kept by the bot with the question, the answer and its sources; after a thumbs
    // down, the customer may say what the right answer was (the same rating, sent again with it)
    var bar = el("div", "rate");
    var url = "/v1/answers/" + encodeURIComponent(answerId) + "/feedback";
    [["up", "\uD83D\uDC4D", "Right answer"], ["down", "\uD83D\uDC4E", "Wrong answer"]].forEach(function (r) {
      var b = el("button", "", r[1]);
      b.type = "button";
      b.setAttribute("aria-label", r[2]);
      b.dataset.rating = r[0];
      b.addEventListener("click", function () {
        bar.querySelectorAll("button").forEach(function (x) { x.disabled = true; });
        call("POST", url, { rating: r[0] }).then(function () {
          bar.appendChild(el("span", "thanks", "Thanks for the feedback."));
          if (r[0] === "down") bar.parentNode.insertBefore(correction(url), bar.nextSibling);
        }, function () {
          bar.appendChild(el("span", "thanks", "The feedback could not be sent."));
        });
      });
      bar.appendChild(b);
    });
    return bar;
  }

  function correction(url) {
    var box = el("form", "fix");
    var field = el("input");
    field.name = "correction";
    field.maxLength = 1000;
    field.placeholder = "What was the right answer? (optional)";
    field.setAttribute("aria-label", "What was the right answer? (optional)");
    var send = el("button", "", "Send");
    send.type = "submit";
    box.appendChild(field);
    box.appendChild(send);
    box.addEventListener("submit", function (e) {
      e.preventDefault();
      var text = field.value.trim();
      if (!text) return;
      field.disabled = send.disabled = true;
      call("POST", url, { rating: "down", correction: text }).then(function () {
        box.replaceWith(el("div", "rate thanks", "Thanks, the answer will be looked at."));
      }, function () {
        field.disabled = send.disabled = false;
      });
    });
    return box;
  }

  form.addEventListener("submit", function (e) {
    e.preventDefault();
    var q = input.value.trim();
    if (!q || send.disabled) return;
    log.appendChild(el("div", "msg user", q));
    input.value = "";
    send.disabled = true;
    var typing = el("div", "msg bot typing");
    typing.setAttribute("aria-label", "The bot is typing");
    for (var i = 0; i < 3; i++) typing.appendChild(el("span"));
    log.appendChild(typing);
    log.scrollTop = log.scrollHeight;
    ask(q).then(show, function (err) {
      log.appendChild(el("div", "msg bot error", "Sorry, something went wrong: " + err.message));
    }).then(function () {
      typing.remove();
      send.disabled = false;
      log.scrollTop = log.scrollHeight;
      input.focus();
    });
  });

  if (inline) input.focus();
  window.qaBotWidget = { open: open, close: shut, root: root };
})();
