"use strict";
// The labelling page: one image at a time, the next ones prefetched and decoded, keys 1-9 to
// label and advance, drag to draw a box (box jobs), skip, undo, back, zoom and pan.

const S = {
  job: null, queue: [], current: null, history: [], answers: new Map(),
  zoom: 1, panX: 0, panY: 0, boxes: [], boxClass: 0, loading: null, exhausted: false,
  chain: Promise.resolve(), latencies: [], done: false,
};
window.ocrprepLabel = S;  // read by the browser tests and the benchmark

const $ = (id) => document.getElementById(id);
const stage = $("stage"), canvas = $("canvas"), overlay = $("overlay");
let image = $("image");  // replaced by each prefetched, already decoded <img> (no decode on show)

function message(text) { $("message").textContent = text || ""; }

function send(path, json) {  // answers and undo run one after another, in order
  const run = S.chain.then(() => api(path, { method: "POST", json }));
  S.chain = run.catch(() => undefined);
  return run;
}

function prefetch(entry) {
  const item = { image: entry.image, url: entry.url, width: 0, height: 0, blobUrl: null };
  item.ready = fetch(entry.url, { credentials: "same-origin" })
    .then((r) => { if (!r.ok) throw new Error(`image ${entry.image}: HTTP ${r.status}`); return r.blob(); })
    .then((blob) => {
      item.blobUrl = URL.createObjectURL(blob);
      const img = new Image();
      img.alt = "image to label";
      img.draggable = false;
      img.src = item.blobUrl;
      return img.decode().then(() => { item.width = img.naturalWidth; item.height = img.naturalHeight; item.decoded = img; });
    });
  item.ready.catch((error) => message(error.message));
  return item;
}

function knownImages() {
  const all = new Set(S.queue.map((i) => i.image));
  if (S.current) all.add(S.current.image);
  return all;
}

function fill(fromStart = false) {
  if (S.loading) return S.loading;
  if (S.queue.length >= 3 && !fromStart) return Promise.resolve();
  const indices = [...knownImages()];
  const after = fromStart || !indices.length ? -1 : Math.max(...indices);
  // after the answers in flight, so the server does not offer an image just answered
  S.loading = S.chain.then(() => api(`/v1/work/next?count=${Math.max(1, 4 - S.queue.length)}&after=${after}`))
    .then((r) => {
      const known = knownImages();
      for (const entry of r.images) {
        if (!known.has(entry.image) && !S.answers.has(entry.image)) S.queue.push(prefetch(entry));
      }
      S.exhausted = r.images.length === 0;
    })
    .catch((error) => message(error.message))
    .finally(() => { S.loading = null; });
  return S.loading;
}

// ---------------------------------------------------------------- showing an image

function fit() {
  const item = S.current;
  if (!item || !item.width) return;
  const w = stage.clientWidth, h = stage.clientHeight;
  S.zoom = Math.min(w / item.width, h / item.height, 4) * 0.96;
  S.panX = (w - item.width * S.zoom) / 2;
  S.panY = (h - item.height * S.zoom) / 2;
  layout();
}

function layout() {
  const item = S.current;
  if (!item) return;
  canvas.style.left = `${S.panX}px`;
  canvas.style.top = `${S.panY}px`;
  image.style.width = `${item.width * S.zoom}px`;
  image.style.height = `${item.height * S.zoom}px`;
  renderBoxes();
}

function renderBoxes(drawing) {
  const z = S.zoom, labels = S.job.labels;
  const nodes = S.boxes.map((b) => boxNode(b, z, false));
  if (drawing) nodes.push(boxNode(drawing, z, true));
  overlay.replaceChildren(...nodes);
  void labels;
}

function boxNode(b, z, drawing) {
  const node = el("div", { class: drawing ? "box drawing" : "box" }, el("span", {}, b.label));
  node.style.left = `${b.left * z}px`; node.style.top = `${b.top * z}px`;
  node.style.width = `${b.width * z}px`; node.style.height = `${b.height * z}px`;
  return node;
}

function measure(t0) {
  if (t0 === undefined) return;
  // two frames: the second callback runs after the frame that shows the new image was painted
  requestAnimationFrame(() => requestAnimationFrame(() => {
    const ms = performance.now() - t0;
    S.latencies.push(ms);
    $("latency").textContent = `next image in ${ms.toFixed(0)} ms`;
  }));
}

async function show(item, t0) {
  S.current = item;
  $("done").classList.add("hidden");
  try { await item.ready; } catch (error) { message(error.message); return; }
  if (S.current !== item) return;
  const shown = item.decoded;
  if (shown !== image) {
    image.removeAttribute("id");
    shown.id = "image";
    shown.classList.remove("hidden");
    shown.dataset.index = String(item.image);
    canvas.replaceChild(shown, image);
    image = shown;
  }
  const previous = S.answers.get(item.image);
  S.boxes = previous && previous.boxes ? previous.boxes.map((b) => ({ ...b })) : [];
  const note = $("previous");
  if (previous) {
    note.textContent = previous.skipped ? "you skipped this image" : `your answer: ${previous.label ?? `${(previous.boxes || []).length} box(es)`}`;
    note.classList.remove("hidden");
  } else note.classList.add("hidden");
  fit();
  measure(t0);
  fill();
}

async function advance(t0) {
  let next = S.queue.shift();
  if (!next) {
    S.current = null;
    await fill();
    next = S.queue.shift();
    if (!next) { await fill(true); next = S.queue.shift(); }
  }
  if (next) { show(next, t0); return; }
  S.done = true;
  image.classList.add("hidden");
  overlay.replaceChildren();
  $("previous").classList.add("hidden");
  $("done").classList.remove("hidden");
}

// ---------------------------------------------------------------- answering

function renderProgress(p) {
  $("progress").textContent = `you: ${p.mine} answered, ${p.remaining_for_me} to go · job: ${p.complete} of ${p.images} images complete`;
}

function answer(payload, t0) {
  const item = S.current;
  if (!item || !item.width) return;
  const body = { image: item.image, ...payload };
  if (S.job.kind === "boxes" && !payload.skipped) body.image_size = [item.width, item.height];
  send("/v1/work/annotations", body).then(renderProgress, (error) => message(`not saved: ${error.message}`));
  S.answers.set(item.image, body);
  S.history.push(item);
  if (S.history.length > 50) {
    const old = S.history.shift();
    if (old.blobUrl && old !== S.current) { URL.revokeObjectURL(old.blobUrl); old.ready = Promise.reject(new Error("forgotten")); old.ready.catch(() => {}); }
  }
  advance(t0);
}

function back(t0) {
  const previous = S.history.pop();
  if (!previous) { message("nothing to go back to"); return; }
  if (S.current) S.queue.unshift(S.current);
  show(previous, t0);
}

async function undo(t0) {
  let result;
  try { result = await send("/v1/work/undo"); } catch (error) { message(error.message); return; }
  if (result.image === null) { message("nothing to undo"); return; }
  S.answers.delete(result.image);
  let index = S.history.findIndex((i) => i.image === result.image);
  let item;
  if (index >= 0) { item = S.history.splice(index, 1)[0]; } else { item = prefetch({ image: result.image, url: result.url }); }
  if (S.current && S.current !== item) S.queue.unshift(S.current);
  S.queue = S.queue.filter((i, n) => i.image !== item.image || n === -1);
  show(item, t0);
}

// ---------------------------------------------------------------- zoom, pan, boxes

function zoomAt(factor, cx, cy) {
  const old = S.zoom;
  S.zoom = Math.max(0.05, Math.min(16, old * factor));
  S.panX = cx - (cx - S.panX) * (S.zoom / old);
  S.panY = cy - (cy - S.panY) * (S.zoom / old);
  layout();
}

function imagePoint(event) {
  const rect = image.getBoundingClientRect();
  const item = S.current;
  const x = (event.clientX - rect.left) / S.zoom, y = (event.clientY - rect.top) / S.zoom;
  return { x: Math.max(0, Math.min(item.width, x)), y: Math.max(0, Math.min(item.height, y)) };
}

let drag = null;
stage.addEventListener("mousedown", (event) => {
  if (!S.current || event.button !== 0) return;
  event.preventDefault();
  if (S.job.kind === "boxes" && !event.shiftKey) drag = { mode: "box", start: imagePoint(event) };
  else drag = { mode: "pan", x: event.clientX - S.panX, y: event.clientY - S.panY };
});
window.addEventListener("mousemove", (event) => {
  if (!drag) return;
  if (drag.mode === "pan") { S.panX = event.clientX - drag.x; S.panY = event.clientY - drag.y; layout(); return; }
  const p = imagePoint(event), s = drag.start;
  drag.box = { label: S.job.labels[S.boxClass], left: Math.min(s.x, p.x), top: Math.min(s.y, p.y), width: Math.abs(p.x - s.x), height: Math.abs(p.y - s.y) };
  renderBoxes(drag.box);
});
window.addEventListener("mouseup", () => {
  if (drag && drag.mode === "box" && drag.box && drag.box.width >= 3 && drag.box.height >= 3) {
    const b = drag.box;
    S.boxes.push({ label: b.label, left: Math.round(b.left), top: Math.round(b.top), width: Math.round(b.width), height: Math.round(b.height) });
  }
  drag = null;
  renderBoxes();
});
stage.addEventListener("wheel", (event) => {
  event.preventDefault();
  const rect = stage.getBoundingClientRect();
  zoomAt(event.deltaY < 0 ? 1.15 : 1 / 1.15, event.clientX - rect.left, event.clientY - rect.top);
}, { passive: false });
window.addEventListener("resize", fit);

function setBoxClass(index) {
  S.boxClass = index;
  document.querySelectorAll("#labels button").forEach((b, i) => b.classList.toggle("active", i === index));
}

document.addEventListener("keydown", (event) => {
  if (!S.job || event.target.closest("input, textarea, select")) return;
  const t0 = performance.now();
  const key = event.key;
  if (/^[1-9]$/.test(key) && !event.ctrlKey && !event.metaKey && !event.altKey) {
    const index = Number(key) - 1;
    if (index >= S.job.labels.length) return;
    event.preventDefault();
    if (S.job.kind === "classification") answer({ label: S.job.labels[index] }, t0);
    else setBoxClass(index);
  } else if (key === "Enter" || key === "n") {
    if (S.job.kind === "boxes") { event.preventDefault(); answer({ boxes: S.boxes }, t0); }
  } else if (key === "s") { event.preventDefault(); answer({ skipped: true }, t0); }
  else if (key === "u" || (key === "z" && (event.ctrlKey || event.metaKey))) { event.preventDefault(); undo(t0); }
  else if (key === "b" || key === "ArrowLeft") { event.preventDefault(); back(t0); }
  else if (key === "+" || key === "=") zoomAt(1.25, stage.clientWidth / 2, stage.clientHeight / 2);
  else if (key === "-") zoomAt(1 / 1.25, stage.clientWidth / 2, stage.clientHeight / 2);
  else if (key === "0") fit();
  else if ((key === "Delete" || key === "Backspace") && S.boxes.length) { event.preventDefault(); S.boxes.pop(); renderBoxes(); }
});

// ---------------------------------------------------------------- start

(async function start() {
  try {
    const status = await api("/v1/work");
    S.job = status.job;
    $("job-name").textContent = S.job.name;
    renderProgress(status.progress);
    $("labels").replaceChildren(...S.job.labels.map((label, i) => el("button", {
      "data-label": label,
      onclick: () => (S.job.kind === "classification" ? answer({ label }, performance.now()) : setBoxClass(i)),
    }, i < 9 ? el("kbd", {}, String(i + 1)) : null, " ", label)));
    const boxes = S.job.kind === "boxes";
    stage.classList.toggle("boxes", boxes);
    $("submit-boxes").classList.toggle("hidden", !boxes);
    if (boxes) setBoxClass(0);
    $("help").replaceChildren(boxes
      ? "Drag to draw a box (shift-drag pans) · 1-9 choose the class · Enter saves and goes on · Delete removes the last box · S skip · B back · U undo · wheel or +/- zoom · 0 fit"
      : "1-9 label and go on · S skip · B back · U undo · drag pans · wheel or +/- zoom · 0 fit");
    $("skip").onclick = () => answer({ skipped: true }, performance.now());
    $("back").onclick = () => back(performance.now());
    $("undo").onclick = () => undo(performance.now());
    $("submit-boxes").onclick = () => answer({ boxes: S.boxes }, performance.now());
    $("zoom-in").onclick = () => zoomAt(1.25, stage.clientWidth / 2, stage.clientHeight / 2);
    $("zoom-out").onclick = () => zoomAt(1 / 1.25, stage.clientWidth / 2, stage.clientHeight / 2);
    $("zoom-fit").onclick = fit;
    const mine = await api("/v1/work/annotations");
    for (const a of mine) S.answers.set(a.image, a);
    await fill(true);
    await advance();
  } catch (error) { message(error.message); }
})();
