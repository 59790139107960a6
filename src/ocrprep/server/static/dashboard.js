"use strict";
// The dashboard: projects and versions, a version's evaluation (confusion matrix drawn),
// labelling jobs, and recent results with before/after thumbnails.

let selected = null;
let isAdmin = false;

async function act(v, action) {
  const path = `/v1/projects/${encodeURIComponent(v.project)}/versions/${v.version}`;
  if (action === "delete" && !confirm(`Delete ${v.name}?`)) return;
  try {
    await api(action === "delete" ? path : `${path}/${action}`, { method: action === "delete" ? "DELETE" : "POST" });
    await refresh();
  } catch (error) { alert(error.message); }
}

function actions(v) {
  if (!isAdmin) return [];
  const can = {
    start: ["TRAINING_COMPLETED", "STOPPED", "FAILED"].includes(v.status),
    stop: v.status === "RUNNING",
    delete: ["TRAINING_COMPLETED", "STOPPED", "FAILED", "TRAINING_FAILED"].includes(v.status),
  };
  return Object.entries(can).filter(([, ok]) => ok).map(([name]) => el("button", { "data-action": name, onclick: () => act(v, name) }, name));
}

function renderProjects(projects) {
  const target = document.getElementById("projects");
  if (!projects.length) { target.replaceChildren(el("p", { class: "muted" }, "No projects yet: train one with `ocrprep train`.")); return; }
  const rows = [];
  for (const project of projects) {
    if (!project.versions.length) rows.push(el("tr", {}, el("td", {}, project.name), el("td", { colspan: 4, class: "muted" }, "no versions")));
    for (const v of project.versions) {
      const row = el("tr", { class: selected === v.name ? "selected" : "" },
        el("td", {}, project.name), el("td", {}, `v${v.version}`),
        el("td", {}, badge(v.status), v.status_message ? el("div", { class: "muted" }, v.status_message) : null),
        el("td", {}, v.f1_score === null ? "–" : num(v.f1_score)),
        el("td", {}, el("button", { onclick: () => loadEvaluation(v.project, v.version) }, "Evaluation"), " ", actions(v)));
      rows.push(row);
    }
  }
  target.replaceChildren(el("table", {}, el("thead", {}, el("tr", {}, ["project", "version", "status", "F1", ""].map(h => el("th", {}, h)))), el("tbody", {}, rows)));
}

function heat(value, max) {
  const t = max > 0 ? value / max : 0;
  const light = Math.round(97 - 55 * t);
  return `background: hsl(214, 80%, ${light}%); color: ${t > 0.55 ? "#fff" : "#1c2430"}`;
}

function confusionMatrix(cm) {
  const labels = cm.labels, matrix = cm.matrix;
  const max = Math.max(0, ...matrix.flat());
  const head = el("tr", {}, el("th", {}, ""), labels.map(l => el("th", {}, l)));
  const rows = matrix.map((row, i) => el("tr", {}, el("th", { class: "rowhead" }, labels[i]),
    row.map((value, j) => el("td", { class: "cell", style: heat(value, max), title: `true ${labels[i]}, predicted ${labels[j]}: ${value}` }, value))));
  return el("div", {}, el("p", { class: "muted" }, `rows: ${cm.rows || "true label"} · columns: ${cm.columns || "predicted label"}`),
    el("table", { class: "cm", id: "confusion-matrix" }, el("thead", {}, head), el("tbody", {}, rows)));
}

async function loadEvaluation(project, version) {
  selected = `${project}:${version}`;
  document.getElementById("evaluation-name").textContent = selected;
  const target = document.getElementById("evaluation");
  try {
    const v = await api(`/v1/projects/${encodeURIComponent(project)}/versions/${version}`);
    const ev = v.evaluation;
    if (!ev) { target.replaceChildren(el("p", { class: "muted" }, "This version has no evaluation yet.")); return; }
    const metrics = (ev.label_metrics || []).map(m => el("tr", {}, el("td", {}, m.label), el("td", {}, num(m.precision)), el("td", {}, num(m.recall)), el("td", {}, num(m.f1)), el("td", {}, m.assumed_threshold === undefined ? "–" : num(m.assumed_threshold, 1)), el("td", {}, m.support ?? "–")));
    target.replaceChildren(
      el("dl", { class: "kv" }, el("dt", {}, "macro F1"), el("dd", {}, num(ev.macro_f1)), el("dt", {}, "accuracy"), el("dd", {}, num(ev.top_label_accuracy)),
        el("dt", {}, "test images"), el("dd", {}, ev.num_test_images ?? "–"), el("dt", {}, "training images"), el("dd", {}, ev.num_training_images ?? "–")),
      ev.confusion_matrix ? confusionMatrix(ev.confusion_matrix) : el("p", { class: "muted" }, "no confusion matrix"),
      el("table", {}, el("thead", {}, el("tr", {}, ["label", "precision", "recall", "F1", "threshold", "support"].map(h => el("th", {}, h)))), el("tbody", {}, metrics)));
  } catch (error) { showError(target, error); }
}

function renderJobs(jobs) {
  const target = document.getElementById("jobs");
  if (!jobs.length) { target.replaceChildren(el("p", { class: "muted" }, "No labelling jobs.")); return; }
  target.replaceChildren(el("table", {}, el("thead", {}, el("tr", {}, ["job", "kind", "labels", "images", "workers / image", "answers", ""].map(h => el("th", {}, h)))),
    el("tbody", {}, jobs.map(j => el("tr", {}, el("td", {}, el("a", { href: `/jobs/${j.id}` }, j.name)), el("td", {}, j.kind), el("td", {}, j.labels.join(", ")),
      el("td", {}, j.images), el("td", {}, j.workers_per_image),
      el("td", {}, progressBar(j.answers / Math.max(1, j.images * j.workers_per_image)), el("span", { class: "muted" }, `${j.answers} of ${j.images * j.workers_per_image}`)),
      el("td", {}, el("a", { href: `/jobs/${j.id}` }, "open")))))));
}

function renderResults(results) {
  const target = document.getElementById("results");
  if (!results.length) { target.replaceChildren(el("p", { class: "muted" }, "No results yet: call POST /v1/process or /v1/assess.")); return; }
  target.replaceChildren(el("div", { class: "results" }, results.map(r => {
    const verdict = r.error && r.error !== "PoorQualityImage" ? "failed" : (r.acceptable ? "accepted" : "rejected");
    const thumb = (which, caption) => el("figure", {}, el("img", { src: `/v1/results/${encodeURIComponent(r.id)}/thumbnail/${which}`, alt: `${caption} ${r.source}`, loading: "lazy", onerror: (e) => { e.target.replaceWith(el("div", { class: "muted" }, "(not available)")); } }), el("figcaption", {}, caption));
    return el("div", { class: `result ${verdict}` },
      el("div", {}, badge(verdict, verdict === "accepted" ? "ok" : verdict === "rejected" ? "bad" : "review"), " ", el("b", {}, r.endpoint), " ", el("span", { class: "muted" }, r.time)),
      el("div", { class: "muted", style: "word-break: break-all" }, r.source),
      el("div", { class: "thumbs" }, r.input_uri ? thumb("before", "before") : null, r.output_uri ? thumb("after", `after (${(r.steps || []).join(", ") || "changed"})`) : null),
      el("div", {}, `score ${num(r.score, 2)}`, r.top_label ? ` · top label ${r.top_label.Name} (${num(r.top_label.Confidence, 1)})` : ""),
      r.error && r.error !== "PoorQualityImage" ? el("div", { class: "error" }, `${r.error}: ${r.message}`) : null,
      r.reasons && r.reasons.length ? el("ul", {}, r.reasons.map(reason => el("li", {}, reason))) : null);
  })));
}

async function refresh() {
  const parts = [
    ["projects", api("/v1/projects").then(renderProjects)],
    ["jobs", api("/v1/labelling/jobs").then(renderJobs)],
    ["results", api("/v1/results?limit=24").then(renderResults)],
  ];
  for (const [id, promise] of parts) { try { await promise; } catch (error) { showError(id, error); } }
}

document.getElementById("new-job").addEventListener("submit", async (event) => {
  event.preventDefault();
  const value = (id) => document.getElementById(id).value.trim();
  const source = value("job-source");
  const labels = value("job-labels").split(",").map((x) => x.trim()).filter(Boolean);
  const body = { name: value("job-name"), kind: value("job-kind"), workers_per_image: Number(value("job-workers")) || 1 };
  if (source.includes("/")) body.source = source; else body.dataset = source;  // a path, or a saved dataset
  if (labels.length) body.labels = labels;
  try {
    const job = await api("/v1/labelling/jobs", { method: "POST", json: body });
    location.href = `/jobs/${job.id}`;
  } catch (error) { showError("job-message", error); }
});

(async function () {
  try {
    const me = await api("/v1/whoami");
    document.getElementById("whoami").textContent = `${me.name} (${me.scopes.join(", ")})`;
    isAdmin = (me.scopes || []).includes("admin");
    if (isAdmin) document.getElementById("new-job").classList.remove("hidden");
  } catch (e) { /* signed out */ }
  await refresh();
  setInterval(refresh, 5000);
})();
