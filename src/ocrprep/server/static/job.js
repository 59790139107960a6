"use strict";
// A labelling job: progress, agreement, workers, consensus per image with review flags.

const jobId = document.body.dataset.job;
let isAdmin = false;

function stat(name, value) { return [el("dt", {}, name), el("dd", {}, value)]; }

function render(job) {
  document.getElementById("title").textContent = `Labelling job: ${job.name}`;
  document.getElementById("manifest-link").href = `/v1/labelling/jobs/${job.id}/manifest`;
  const p = job.progress;
  document.getElementById("progress").replaceChildren(
    progressBar(p.complete / Math.max(1, p.images)),
    el("dl", { class: "kv" }, stat("images complete", `${p.complete} of ${p.images} (${p.percent}%)`), stat("answers", `${p.answers} of ${p.needed}`),
      stat("flagged for review", p.review), stat("kind", job.kind), stat("labels", job.labels.join(", ")), stat("workers per image", job.workers_per_image),
      stat("min agreement", pct(job.min_agreement)), stat("source", job.source || "(list of URIs)")));
  const a = job.agreement;
  document.getElementById("agreement").replaceChildren(el("dl", { class: "kv" },
    stat("Krippendorff's alpha", num(a.krippendorff_alpha)), stat("Fleiss' kappa", num(a.fleiss_kappa)), stat("mean pairwise agreement", pct(a.mean_pairwise)),
    ...Object.entries(a.per_worker).map(([w, v]) => stat(`${w} agrees with consensus`, pct(v)))));
  document.getElementById("workers").replaceChildren(job.workers.length
    ? el("ul", {}, job.workers.map(w => el("li", {}, w.name, w.revoked ? " (revoked)" : "")))
    : el("p", { class: "muted" }, "No workers yet."));
  const rows = job.consensus.map(c => {
    const flags = [];
    if (c.review) flags.push(badge("review", "review"));
    if (c.resolved) flags.push(badge("resolved", "ok"));
    if (!c.complete) flags.push(badge(c.answers ? "in progress" : "waiting", ""));
    const answer = job.kind === "boxes"
      ? `${c.boxes.length} box(es)` + (c.boxes.length ? `: ${c.boxes.map(b => `${b.label} ${pct(b.confidence)}`).join(", ")}` : "")
      : (c.label ?? "–");
    const resolve = isAdmin && job.kind === "classification" && c.review
      ? el("span", {}, job.labels.map(label => el("button", { onclick: () => resolveImage(c.image, label) }, label)))
      : null;
    return el("tr", { "data-image": c.image, class: c.review ? "review" : "" },
      el("td", {}, el("img", { class: "thumb", loading: "lazy", src: `/v1/labelling/jobs/${jobId}/images/${c.image}?side=160`, alt: c.uri })),
      el("td", { style: "word-break: break-all" }, c.uri),
      el("td", {}, Object.entries(c.votes).map(([k, v]) => `${k}: ${v}`).join(", ") || "–", c.skips ? el("div", { class: "muted" }, `${c.skips} skipped`) : null),
      el("td", { class: "consensus-label" }, answer), el("td", {}, pct(c.confidence)),
      el("td", {}, flags, c.reasons.length ? el("div", { class: "muted" }, c.reasons.join("; ")) : null, resolve));
  });
  document.getElementById("consensus").replaceChildren(el("table", { id: "consensus-table" },
    el("thead", {}, el("tr", {}, ["image", "uri", "votes", "consensus", "confidence", "flags"].map(h => el("th", {}, h)))), el("tbody", {}, rows)));
}

async function resolveImage(index, label) {
  try { await api(`/v1/labelling/jobs/${jobId}/images/${index}/resolve`, { method: "POST", json: { label } }); await load(); }
  catch (error) { alert(error.message); }
}

async function load() {
  try { render(await api(`/v1/labelling/jobs/${jobId}`)); } catch (error) { showError("progress", error); }
}

document.getElementById("add-worker").addEventListener("submit", async (event) => {
  event.preventDefault();
  const name = document.getElementById("worker-name").value.trim();
  try {
    const made = await api(`/v1/labelling/jobs/${jobId}/workers`, { method: "POST", json: { name } });
    document.getElementById("new-token").replaceChildren("token for ", el("b", {}, made.name), " (shown once): ", el("code", {}, made.token));
    await load();
  } catch (error) { showError("new-token", error); }
});

(async function () {
  try { const me = await api("/v1/whoami"); isAdmin = (me.scopes || []).includes("admin"); } catch (e) { /* ignore */ }
  if (isAdmin) document.getElementById("add-worker").classList.remove("hidden");
  await load();
  setInterval(load, 5000);
})();
