/* Flowdesk chat widget: one script tag on any page.
 *   <script src="https://desk.example.org/static/web/chat-widget.js"
 *           data-flowdesk="https://desk.example.org/" data-title="Chat with us"></script>
 * Protocol (docs/channels.md): POST api/v1/chat/sessions {name,email} -> {session,cursor};
 * POST api/v1/chat/messages {session,text}; GET api/v1/chat/messages?session&after&wait
 * (long poll) -> {messages:[{n,id,from,text,at}],cursor}. Bodies go as text/plain so a page
 * on another origin needs no preflight. The session stays in sessionStorage for reloads. */
(function () {
  "use strict";
  var script = document.currentScript;
  var base = new URL((script && script.getAttribute("data-flowdesk")) || "/", script ? script.src : location.href);
  var title = (script && script.getAttribute("data-title")) || "Chat with us";
  var KEY = "flowdesk-chat:" + base.href;
  var state = { session: null, cursor: 0, polling: false, seen: {} };

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text) node.textContent = text;
    return node;
  }
  function api(method, path, body) {
    var init = { method: method, headers: {} };
    if (body) { init.body = JSON.stringify(body); init.headers["Content-Type"] = "text/plain"; }
    return fetch(new URL(path, base), init).then(function (r) {
      return r.json().then(function (data) {
        if (!r.ok) throw new Error(data.detail || ("HTTP " + r.status));
        return data;
      });
    });
  }

  var box = el("section", { "class": "fd-chat", "aria-label": title, hidden: "" });
  var style = el("style", {}, ".fd-chat{position:fixed;right:1rem;bottom:4rem;width:20rem;background:#fff;border:1px solid #888;border-radius:.5rem;padding:.5rem;font:14px system-ui,sans-serif;box-shadow:0 2px 8px #0003}.fd-chat ol{list-style:none;margin:0;padding:0;max-height:16rem;overflow:auto}.fd-chat li{margin:.25rem 0;padding:.3rem .5rem;border-radius:.4rem}.fd-chat li.customer{background:#e6f0ff;text-align:right}.fd-chat li.agent{background:#eee}.fd-chat input,.fd-chat textarea{width:100%;box-sizing:border-box;margin:.2rem 0}.fd-open{position:fixed;right:1rem;bottom:1rem}.fd-error{color:#a00}");
  var opener = el("button", { "class": "fd-open", type: "button" }, title);
  var heading = el("h2", {}, title);
  var start = el("form", {});
  var nameLabel = el("label", {}, "Name"); var nameInput = el("input", { name: "name", autocomplete: "name" });
  nameLabel.appendChild(nameInput);
  var emailLabel = el("label", {}, "Email"); var emailInput = el("input", { name: "email", type: "email", required: "", autocomplete: "email" });
  emailLabel.appendChild(emailInput);
  start.append(nameLabel, emailLabel, el("button", { type: "submit" }, "Start chat"));
  var log = el("ol", { role: "log", "aria-live": "polite", "aria-label": "Conversation" });
  var talk = el("form", { hidden: "" });
  var textLabel = el("label", {}, "Message"); var textInput = el("textarea", { name: "text", rows: "2", required: "" });
  textLabel.appendChild(textInput);
  talk.append(textLabel, el("button", { type: "submit" }, "Send"));
  var error = el("p", { "class": "fd-error", role: "alert" });
  box.append(heading, start, log, talk, error);

  function show(message) {
    if (state.seen[message.id]) return;
    state.seen[message.id] = true;
    var item = el("li", { "class": message.from }, message.text);
    log.appendChild(item);
    log.scrollTop = log.scrollHeight;
  }
  function poll() {
    if (state.polling || !state.session) return;
    state.polling = true;
    var query = "api/v1/chat/messages?session=" + encodeURIComponent(state.session) + "&after=" + state.cursor + "&wait=20";
    api("GET", query).then(function (data) {
      data.messages.forEach(show);
      state.cursor = data.cursor;
      sessionStorage.setItem(KEY, JSON.stringify({ session: state.session }));
      state.polling = false; poll();
    }).catch(function (e) {
      error.textContent = e.message; state.polling = false; setTimeout(poll, 3000);
    });
  }
  function begin(session) {
    state.session = session; state.cursor = 0;
    start.hidden = true; talk.hidden = false;
    sessionStorage.setItem(KEY, JSON.stringify({ session: session }));
    poll();
  }
  start.addEventListener("submit", function (event) {
    event.preventDefault(); error.textContent = "";
    api("POST", "api/v1/chat/sessions", { name: nameInput.value, email: emailInput.value })
      .then(function (data) { begin(data.session); })
      .catch(function (e) { error.textContent = e.message; });
  });
  talk.addEventListener("submit", function (event) {
    event.preventDefault(); error.textContent = "";
    var text = textInput.value.trim();
    if (!text) return;
    api("POST", "api/v1/chat/messages", { session: state.session, text: text })
      .then(function () { textInput.value = ""; })
      .catch(function (e) { error.textContent = e.message; });
  });
  opener.addEventListener("click", function () { box.hidden = !box.hidden; });

  function mount() {
    document.head.appendChild(style);
    document.body.append(box, opener);
    var saved = sessionStorage.getItem(KEY);
    if (saved) { try { begin(JSON.parse(saved).session); box.hidden = false; } catch (e) { sessionStorage.removeItem(KEY); } }
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", mount); else mount();
})();
