// Keyboard shortcuts and the scan viewer. Everything works without this script too.
(function () {
  "use strict";
  const typing = (e) => /^(INPUT|TEXTAREA|SELECT)$/.test(e.target.tagName);

  // Scan tiles: zoom and rotate each one; the focused (or hovered) tile takes +, -, O.
  const state = new WeakMap();
  // A turned scan starts upright: the pre-checks' rotation (data-rot), applied by the CSS too.
  const initial = (fig) => ({ zoom: 1, rot: Number(fig.dataset.rot || 0) });
  function apply(fig) {
    const s = state.get(fig) || initial(fig);
    const doc = fig.querySelector(".frame") || fig.querySelector("img.doc");
    if (doc) doc.style.transform = "scale(" + s.zoom + ") rotate(" + s.rot + "deg)";
  }
  function act(fig, what) {
    const s = state.get(fig) || initial(fig);
    if (what === "zoom-in") s.zoom = Math.min(s.zoom * 1.25, 6);
    if (what === "zoom-out") s.zoom = Math.max(s.zoom / 1.25, 0.5);
    if (what === "rotate") s.rot = (s.rot + 90) % 360;
    state.set(fig, s);
    apply(fig);
  }
  let hovered = null;
  document.querySelectorAll("figure.scan").forEach((fig) => {
    fig.addEventListener("mouseenter", () => { hovered = fig; });
    fig.querySelectorAll("button[data-act]").forEach((b) =>
      b.addEventListener("click", () => act(fig, b.dataset.act)));
  });

  // Queue rows: J/K move the selection, Enter opens it; a click on a row opens it.
  const rows = Array.from(document.querySelectorAll("table.queue tbody tr[data-href]"));
  let sel = -1;
  function select(i) {
    if (!rows.length) return;
    if (sel >= 0) rows[sel].classList.remove("selected");
    sel = Math.max(0, Math.min(rows.length - 1, i));
    rows[sel].classList.add("selected");
    rows[sel].scrollIntoView({ block: "nearest" });
  }
  rows.forEach((r) => r.addEventListener("click", (e) => {
    // A bulk action's checkbox (and its cell) picks the row rather than opening it.
    if (!e.target.closest("a, input, label, td.pick")) window.location = r.dataset.href;
  }));
  // "All on this page" for a supervisor's bulk action.
  const all = document.getElementById("pick-all");
  if (all) all.addEventListener("change", () => {
    document.querySelectorAll("input[name=pick]").forEach((c) => { c.checked = all.checked; });
  });

  document.addEventListener("keydown", (e) => {
    if (typing(e) || e.ctrlKey || e.metaKey || e.altKey) return;
    const k = e.key.toLowerCase();
    const fig = document.activeElement && document.activeElement.closest ? document.activeElement.closest("figure.scan") : null;
    const target = fig || hovered;
    if (k === "j") { select(sel + 1); e.preventDefault(); }
    else if (k === "k") { select(sel - 1); e.preventDefault(); }
    else if (k === "enter" && sel >= 0) { window.location = rows[sel].dataset.href; }
    else if (k === "n") { const f = document.getElementById("next-form"); if (f) f.submit(); }
    else if (k === "a") {
      const f = document.getElementById("accept-form");
      if (f && window.confirm(document.documentElement.lang === "en" ? "Accept this application?" : "确认成功受理该申请？")) f.submit();
    }
    else if (k === "r") {
      const first = document.querySelector("#return-form input[type=checkbox]");
      if (first) { first.focus(); e.preventDefault(); }
    }
    else if ((k === "+" || k === "=") && target) act(target, "zoom-in");
    else if (k === "-" && target) act(target, "zoom-out");
    else if (k === "o" && target) act(target, "rotate");
  });
})();
