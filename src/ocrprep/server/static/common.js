// ocrprep: shared helpers for the pages (vanilla JS, no build step).
"use strict";

async function api(path, options = {}) {
  const init = { credentials: "same-origin", ...options };
  init.headers = { "X-Requested-With": "ocrprep", ...(options.headers || {}) };
  if (options.json !== undefined) {
    init.body = JSON.stringify(options.json);
    init.headers["Content-Type"] = "application/json";
    delete init.json;
  }
  const response = await fetch(path, init);
  if (response.status === 401) { location.href = "/signin?next=" + encodeURIComponent(location.pathname); throw new Error("signed out"); }
  const type = response.headers.get("content-type") || "";
  const body = type.includes("json") ? await response.json() : await response.text();
  if (!response.ok) {
    const message = body && body.detail ? `${body.error}: ${body.detail}` : `HTTP ${response.status}`;
    const error = new Error(message); error.status = response.status; error.body = body; throw error;
  }
  return body;
}

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "class") node.className = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (key === "text") node.textContent = value;
    else if (key === "style") node.style.cssText = value;  // CSSOM: allowed by the CSP
    else node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function badge(text, cls) { return el("span", { class: `badge ${cls || text}` }, text); }
function pct(x) { return x === null || x === undefined ? "–" : `${(100 * x).toFixed(0)}%`; }
function num(x, d = 3) { return x === null || x === undefined ? "–" : Number(x).toFixed(d); }
function progressBar(fraction) {
  return el("div", { class: "progress", title: pct(fraction) }, el("div", { style: `width:${Math.max(0, Math.min(100, 100 * fraction))}%` }));
}
function showError(where, error) {
  const node = typeof where === "string" ? document.getElementById(where) : where;
  if (node) node.replaceChildren(el("p", { class: "error", role: "alert" }, String(error.message || error)));
}
