"use strict";
(async function () {
  const target = document.getElementById("api");
  try {
    const spec = await api("/openapi.json");
    const byTag = new Map();
    for (const [path, methods] of Object.entries(spec.paths)) {
      for (const [method, op] of Object.entries(methods)) {
        const tag = (op.tags || ["other"])[0];
        if (!byTag.has(tag)) byTag.set(tag, []);
        byTag.get(tag).push({ path, method: method.toUpperCase(), op });
      }
    }
    const sections = [];
    for (const [tag, ops] of byTag) {
      sections.push(el("section", { class: "panel" }, el("h2", {}, tag), el("table", {},
        el("tbody", {}, ops.map(({ path, method, op }) => el("tr", {},
          el("td", { style: "width:70px" }, el("code", {}, method)),
          el("td", { style: "width:40%" }, el("code", {}, path)),
          el("td", {}, op.summary || "", op.description ? el("div", { class: "muted" }, op.description) : null,
            (op.parameters || []).length ? el("div", { class: "muted" }, "parameters: " + op.parameters.map(p => p.name).join(", ")) : null)))))));
    }
    target.replaceChildren(...sections);
  } catch (error) { showError(target, error); }
})();
