// Quick exit: one press (or Escape twice) and the chat is gone from this tab.
// The conversation leaves the page and the browser's storage for this site, the
// server is asked to drop the page's identity cookie (HttpOnly: only it can), and
// the chat's history entry is replaced by a neutral page, so Back does not return.
// No inline script or handler anywhere: the page keeps a strict CSP.
"use strict";
(function (config) {
  let leaving = false;
  function leave() {
    if (leaving) return;
    leaving = true;
    document.title = "";
    document.body.replaceChildren();
    try { window.localStorage.clear(); } catch (error) { /* storage disabled */ }
    try { window.sessionStorage.clear(); } catch (error) { /* storage disabled */ }
    const forget = fetch(config.endpoint, {method: "POST", credentials: "same-origin", keepalive: true})
      .catch(() => null);
    const enough = new Promise((resolve) => setTimeout(resolve, 400));
    Promise.race([forget, enough]).then(() => window.location.replace(config.url));
  }
  // In the page's language (the server chose it from the browser's); all languages otherwise.
  const text = config.texts[document.documentElement.lang] || {label: config.label, note: config.note};
  const bar = document.createElement("div");
  bar.id = "quick-exit-bar";
  Object.assign(bar.style, {
    position: "sticky", top: "0", zIndex: "1000", display: "flex", flexWrap: "wrap",
    alignItems: "center", gap: ".3rem .6rem", padding: ".4rem .8rem", background: "#fff4e5",
    borderBottom: "1px solid #e0b070", fontSize: ".8rem", lineHeight: "1.3",
  });
  const button = document.createElement("button");
  button.type = "button";
  button.id = "quick-exit";
  button.textContent = text.label;
  Object.assign(button.style, {
    flex: "none", fontWeight: "700", padding: ".45rem .8rem", borderRadius: ".4rem",
    border: "2px solid #8a1c1c", background: "#b22222", color: "#fff", cursor: "pointer",
  });
  button.addEventListener("click", leave);
  const note = document.createElement("span");
  note.id = "quick-exit-note";
  note.style.flex = "1 1 14rem";  // beside the button when there is room, else below it
  note.textContent = text.note;  // said once, here: what quick exit cannot hide
  bar.append(button, note);
  document.body.prepend(bar);
  let lastEscape = 0;
  document.addEventListener("keydown", (event) => {
    if (event.key !== "Escape") return;
    const now = Date.now();
    if (now - lastEscape < 1500) leave();
    lastEscape = now;
  });
})(QUICK_EXIT);
