// The web chat page's script. It lives in its own file so the page can be served
// with a Content-Security-Policy that forbids inline script. The visitor's identity
// is an HttpOnly cookie set by the server: this script never sees or sends it.
"use strict";
(function () {
  const log = document.getElementById("log");
  const form = document.getElementById("form");
  const input = document.getElementById("text");
  const shown = new Set();  // staff replies already on the page, by id
  // The page's language (the server chose it from the browser's): answers to button
  // presses, which carry no words to tell the language by, come in it.
  const language = document.documentElement.lang;
  let sequence = 0;
  function bubble(text, who) {
    const div = document.createElement("div");
    div.className = "msg " + who;
    div.textContent = text;
    log.appendChild(div);
    log.scrollTop = log.scrollHeight;
    return div;
  }
  async function post(url, body) {
    return fetch(url, {
      method: "POST", credentials: "same-origin",
      headers: {"Content-Type": "application/json"}, body: JSON.stringify(body),
    });
  }
  async function send(body, label) {
    if (label) bubble(label, "me");
    sequence += 1;
    const response = await post(
      "/api/chat", Object.assign({message_id: Date.now() + "-" + sequence, language: language}, body));
    let data = {};
    try { data = await response.json(); } catch (error) { data = {}; }
    if (!response.ok) { bubble(data.error || "error", "bot"); return; }
    for (const reply of data.replies) {
      bubble(reply.text, "bot");
      if (reply.buttons.length) {
        const row = document.createElement("div");
        row.className = "buttons";
        for (const b of reply.buttons) {
          const btn = document.createElement("button");
          btn.type = "button"; btn.textContent = b.label;
          btn.addEventListener("click", () => send({payload: b.payload}, b.label));
          row.appendChild(btn);
        }
        log.appendChild(row);
      }
    }
    log.scrollTop = log.scrollHeight;
  }
  // Replies from staff (after a handoff) arrive when the page asks for them; they leave
  // the server only once this page says it has shown them.
  async function collect() {
    try {
      const response = await fetch("/api/chat/updates", {credentials: "same-origin"});
      if (!response.ok) return;
      const data = await response.json();
      let last = null;
      for (const reply of data.replies) {
        if (!shown.has(reply.id)) { bubble(reply.text, "bot staff"); shown.add(reply.id); }
        last = reply.id;
      }
      if (last !== null) await post("/api/chat/updates/ack", {up_to: last});
    } catch (error) { /* offline for a moment: try again on the next tick */ }
  }
  // The greeting and its topics are part of the page; their buttons work like any other.
  for (const btn of log.querySelectorAll("button[data-payload]")) {
    btn.addEventListener("click", () => send({payload: btn.dataset.payload}, btn.textContent));
  }
  setInterval(collect, 4000);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const text = input.value;
    input.value = "";
    send({text: text}, text || " ");
  });
})();
