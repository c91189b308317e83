// The drawing page: a canvas for mouse, touch and pen; live recognition through the service's API;
// the answer, its probabilities and the 28×28 image the model saw; photos; corrections as feedback.
import { applyLanguage, initialLanguage, t } from "./i18n.js";

const API = "/api/v1";
const SIZES = { single: [280, 280], number: [840, 280] }; // canvas pixels sent to the service
const LIVE_DELAY_MS = 180; // while drawing, recognize at most this often (debounced)
const PHOTO_SIDE = 1024; // photos are sent at most this large: the service reduces them to this anyway
const INK = "#111";

const $ = (id) => document.getElementById(id);
const canvas = $("canvas");
const ctx = canvas.getContext("2d", { willReadFrequently: true });
const overlay = $("overlay");
const octx = overlay.getContext("2d");
const stage = $("stage");

const state = {
  mode: "single",
  strokes: [], // each {width, points: [{x, y, pressure}]}
  drawing: null, // the stroke under the pointer
  photo: null, // {canvas, dataUrl, fit: {x, y, scale}} drawn under the strokes
  sent: null, // what the last answer is about: {image, pixels (a canvas copy), fromPhoto}
  answer: null,
  selected: 0, // in number mode, the digit the chart and the correction buttons are about
  seq: 0,
  controller: null,
  timer: 0,
};

// ---------- drawing ----------
function paper() {
  ctx.fillStyle = "#fff";
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  const photo = state.photo;
  if (photo) {
    ctx.drawImage(photo.canvas, photo.fit.x, photo.fit.y, photo.canvas.width * photo.fit.scale,
                  photo.canvas.height * photo.fit.scale);
  }
}

function drawSegment(a, b, width) {
  ctx.strokeStyle = INK;
  ctx.fillStyle = INK;
  ctx.lineCap = "round";
  ctx.lineJoin = "round";
  ctx.lineWidth = width * (0.55 + 0.9 * b.pressure);
  ctx.beginPath();
  if (a === b) {
    ctx.arc(a.x, a.y, ctx.lineWidth / 2, 0, Math.PI * 2);
    ctx.fill();
    return;
  }
  ctx.moveTo(a.x, a.y);
  ctx.lineTo(b.x, b.y);
  ctx.stroke();
}

function drawStroke(stroke) {
  const pts = stroke.points;
  drawSegment(pts[0], pts[0], stroke.width);
  for (let i = 1; i < pts.length; i++) drawSegment(pts[i - 1], pts[i], stroke.width);
}

function redraw() {
  paper();
  state.strokes.forEach(drawStroke);
  $("hint").hidden = hasContent();
}

const hasContent = () => state.strokes.length > 0 || state.photo !== null;

function pointFrom(event) {
  const rect = canvas.getBoundingClientRect();
  // A mouse reports pressure 0.5 while a button is down; pens report the real pressure.
  const pressure = event.pointerType === "pen" ? event.pressure : 0.5;
  return { x: (event.clientX - rect.left) * (canvas.width / rect.width),
           y: (event.clientY - rect.top) * (canvas.height / rect.height), pressure };
}

canvas.addEventListener("pointerdown", (event) => {
  if (event.pointerType === "mouse" && event.button !== 0) return;
  event.preventDefault();
  canvas.setPointerCapture(event.pointerId);
  const point = pointFrom(event);
  state.drawing = { width: Number($("width").value), points: [point], pointerId: event.pointerId };
  drawSegment(point, point, state.drawing.width);
  $("hint").hidden = true;
});

canvas.addEventListener("pointermove", (event) => {
  const stroke = state.drawing;
  if (!stroke || event.pointerId !== stroke.pointerId) return;
  const events = event.getCoalescedEvents ? event.getCoalescedEvents() : [event];
  for (const e of events.length ? events : [event]) {
    const point = pointFrom(e);
    drawSegment(stroke.points[stroke.points.length - 1], point, stroke.width);
    stroke.points.push(point);
  }
  scheduleRecognition();
});

function endStroke(event) {
  const stroke = state.drawing;
  if (!stroke || event.pointerId !== stroke.pointerId) return;
  state.drawing = null;
  delete stroke.pointerId;
  state.strokes.push(stroke);
  recognize();
}
canvas.addEventListener("pointerup", endStroke);
canvas.addEventListener("pointercancel", endStroke);

function undo() {
  if (state.strokes.length) state.strokes.pop();
  else state.photo = null;
  redraw();
  recognize();
}

function clearAll() {
  state.strokes = [];
  state.photo = null;
  redraw();
  recognize();
}

$("undo").addEventListener("click", undo);
$("clear").addEventListener("click", clearAll);
$("width").addEventListener("input", () => { $("width-value").value = $("width").value; });

document.addEventListener("keydown", (event) => {
  const typing = event.target.closest?.("input, select, textarea");
  if ((event.ctrlKey || event.metaKey) && event.key.toLowerCase() === "z" && !typing) {
    event.preventDefault();
    undo();
  } else if (event.key === "Escape" && !typing) {
    clearAll();
  }
});

// ---------- single digit / number ----------
function setMode(mode) {
  state.mode = mode;
  const [width, height] = SIZES[mode];
  for (const c of [canvas, overlay]) { c.width = width; c.height = height; }
  stage.dataset.mode = mode;
  $("hint").dataset.i18n = mode === "number" ? "hintNumber" : "hint";
  $("hint").textContent = t($("hint").dataset.i18n);
  if (state.photo) fitPhoto(state.photo);
  redraw();
  recognize();
}
for (const radio of document.querySelectorAll('input[name="mode"]')) {
  radio.addEventListener("change", () => radio.checked && setMode(radio.value));
}

// ---------- photos: upload, camera, drag and drop, paste ----------
function fitPhoto(photo) {
  const scale = Math.min(canvas.width / photo.canvas.width, canvas.height / photo.canvas.height);
  photo.fit = { scale, x: (canvas.width - photo.canvas.width * scale) / 2,
                y: (canvas.height - photo.canvas.height * scale) / 2 };
}

function loadPhoto(file) {
  if (!file) return;
  // An empty type is a format the system does not name (HEIC on some systems): the service decides.
  if (file.type && !file.type.startsWith("image/")) { status(t("notAnImage")); return; }
  let url = URL.createObjectURL(file);
  let viaService = false;
  const image = new Image();
  image.onload = () => {
    URL.revokeObjectURL(url);
    const scale = Math.min(1, PHOTO_SIDE / Math.max(image.naturalWidth, image.naturalHeight));
    const copy = document.createElement("canvas");
    copy.width = Math.max(1, Math.round(image.naturalWidth * scale));
    copy.height = Math.max(1, Math.round(image.naturalHeight * scale));
    const c = copy.getContext("2d");
    c.fillStyle = "#fff"; // transparent pixels are paper
    c.fillRect(0, 0, copy.width, copy.height);
    c.drawImage(image, 0, 0, copy.width, copy.height);
    state.photo = { canvas: copy, dataUrl: copy.toDataURL("image/jpeg", 0.92) };
    fitPhoto(state.photo);
    state.strokes = [];
    redraw();
    status(t("photoLoaded", { name: file.name }));
    recognize();
  };
  image.onerror = async () => {
    URL.revokeObjectURL(url);
    if (viaService) { status(t("notAnImage")); return; }
    // A format this browser cannot show (an iPhone's HEIC photo outside Safari): the service decodes it.
    viaService = true;
    const upload = new FormData();
    upload.append("file", file);
    try {
      const response = await fetch(`${API}/image`, { method: "POST", body: upload });
      if (!response.ok) throw new Error(String(response.status));
      url = URL.createObjectURL(await response.blob());
      image.src = url;
    } catch {
      status(t("notAnImage"));
    }
  };
  image.src = url;
}

for (const id of ["upload", "camera"]) {
  $(id).addEventListener("change", (event) => { loadPhoto(event.target.files[0]); event.target.value = ""; });
}
stage.addEventListener("dragover", (event) => { event.preventDefault(); $("drop").hidden = false; });
stage.addEventListener("dragleave", (event) => { if (!stage.contains(event.relatedTarget)) $("drop").hidden = true; });
stage.addEventListener("drop", (event) => {
  event.preventDefault();
  $("drop").hidden = true;
  loadPhoto(event.dataTransfer.files[0]);
});
document.addEventListener("paste", (event) => {
  const item = [...(event.clipboardData?.items || [])].find((i) => i.type.startsWith("image/"));
  if (item) loadPhoto(item.getAsFile());
});

// ---------- recognition ----------
function scheduleRecognition() {
  clearTimeout(state.timer);
  state.timer = setTimeout(recognize, LIVE_DELAY_MS);
}

/** What to send: the photo as loaded while nothing is drawn over it, else the canvas as a PNG. */
function snapshot() {
  if (state.photo && state.strokes.length === 0) {
    return { image: state.photo.dataUrl, pixels: state.photo.canvas, fromPhoto: true };
  }
  const pixels = document.createElement("canvas");
  pixels.width = canvas.width;
  pixels.height = canvas.height;
  pixels.getContext("2d").drawImage(canvas, 0, 0);
  return { image: canvas.toDataURL("image/png"), pixels, fromPhoto: false };
}

async function recognize() {
  clearTimeout(state.timer);
  state.controller?.abort();
  const seq = ++state.seq;
  if (!hasContent() && !state.drawing) {
    state.answer = null;
    state.sent = null;
    render();
    return;
  }
  const sent = snapshot();
  const controller = (state.controller = new AbortController());
  document.body.classList.add("busy");
  try {
    const query = state.mode === "number" ? "?multi=true" : "";
    const response = await fetch(`${API}/predict${query}`, {
      method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ image: sent.image }), signal: controller.signal,
    });
    const body = await response.json().catch(() => ({ detail: response.statusText }));
    if (seq !== state.seq) return; // a newer drawing is already on its way
    if (!response.ok) { status(t("serverSays", { error: body.detail })); return; }
    status("");
    state.sent = sent;
    state.answer = { ...body, mode: state.mode };
    state.selected = 0;
    render();
  } catch (error) {
    if (error.name !== "AbortError" && seq === state.seq) status(t("offline"));
  } finally {
    if (seq === state.seq) document.body.classList.remove("busy");
  }
}

// ---------- the answer ----------
const percent = (p) => `${(p * 100).toFixed(p >= 0.995 || p < 0.001 ? 0 : 1)} %`;

function render() {
  const answer = state.answer;
  const digitEl = $("digit");
  octx.clearRect(0, 0, overlay.width, overlay.height);
  if (!answer) {
    digitEl.textContent = "?";
    digitEl.dataset.state = "empty";
    $("verdict").textContent = t(hasContent() ? "reading" : "waiting");
    $("confidence-wrap").hidden = true;
    renderChart(null);
    renderSeen([]);
    $("feedback").hidden = true;
    return;
  }
  if (answer.mode === "number") return renderNumber(answer);
  const read = answer.preprocessed !== null;
  digitEl.textContent = answer.digit ?? (read ? "?" : "–");
  digitEl.dataset.state = answer.digit !== null ? "answer" : "unsure";
  digitEl.classList.remove("long");
  $("verdict").textContent = !read ? t("blank") : answer.digit === null ? t("unsure") : t("itIs", { digit: answer.digit });
  showConfidence(read ? answer.confidence : null);
  renderChart(read ? answer.probabilities : null, answer.digit);
  renderSeen(read ? [answer.preprocessed] : []);
  showFeedback(read, t("wrong"));
}

function renderNumber(answer) {
  const digits = answer.digits;
  const digitEl = $("digit");
  const text = answer.text.replace(/\n/g, " ");
  digitEl.textContent = text || "–";
  digitEl.dataset.state = digits.length ? "answer" : "unsure";
  digitEl.classList.toggle("long", text.length > 2);
  $("verdict").textContent = digits.length ? t("numberIs", { text }) : t("noDigits");
  const chosen = digits[state.selected];
  showConfidence(chosen ? chosen.confidence : null);
  renderChart(chosen ? chosen.probabilities : null, chosen?.digit);
  renderSeen(digits.map((d) => d.preprocessed));
  drawBoxes(digits);
  showFeedback(Boolean(chosen), digits.length > 1 ? t("wrongDigit", { n: state.selected + 1 }) : t("wrong"));
}

function drawBoxes(digits) {
  const { fromPhoto } = state.sent;
  const fit = fromPhoto && state.photo ? state.photo.fit : { x: 0, y: 0, scale: 1 };
  octx.clearRect(0, 0, overlay.width, overlay.height);
  octx.font = "600 20px system-ui, sans-serif";
  digits.forEach((d, i) => {
    const [x, y, w, h] = d.box.map((v) => v * fit.scale);
    const left = fit.x + x, top = fit.y + y;
    const colour = i === state.selected ? "#4f46e5" : "#0ea5e9";
    octx.strokeStyle = colour;
    octx.lineWidth = i === state.selected ? 3 : 2;
    octx.strokeRect(left - 3, top - 3, w + 6, h + 6);
    const label = d.digit === null ? "?" : String(d.digit);
    const labelWidth = octx.measureText(label).width + 10;
    octx.fillStyle = colour;
    octx.fillRect(left - 3, top - 27, labelWidth, 24);
    octx.fillStyle = "#fff";
    octx.fillText(label, left + 2, top - 8);
  });
}

function showConfidence(confidence) {
  $("confidence-wrap").hidden = confidence === null;
  if (confidence === null) return;
  $("confidence-meter").value = confidence;
  $("confidence").textContent = percent(confidence);
}

function renderChart(probabilities, best) {
  const chart = $("chart");
  if (!chart.children.length) {
    for (let d = 0; d < 10; d++) {
      const item = document.createElement("li");
      item.innerHTML = '<span class="value"></span><span class="bar-track"><span class="bar"></span></span>' +
                       `<span class="label">${d}</span>`;
      chart.append(item);
    }
  }
  [...chart.children].forEach((item, d) => {
    const p = probabilities ? probabilities[d] : 0;
    item.querySelector(".bar").style.setProperty("--p", String(p));
    item.querySelector(".value").textContent = probabilities && p >= 0.01 ? `${Math.round(p * 100)}` : "";
    item.classList.toggle("best", probabilities !== null && d === best);
    item.setAttribute("aria-label", t("barLabel", { digit: d, percent: percent(p) }));
  });
}

function renderSeen(images) {
  const seen = $("seen");
  seen.replaceChildren();
  if (!images.length) {
    const empty = document.createElement("div");
    empty.className = "seen-empty";
    empty.dataset.i18n = "seenEmpty";
    empty.textContent = t("seenEmpty");
    seen.append(empty);
    return;
  }
  images.forEach((src, i) => {
    const img = document.createElement("img");
    img.src = src;
    img.width = images.length > 1 ? 56 : 168;
    img.height = img.width;
    img.alt = images.length > 1 ? t("seenDigit", { n: i + 1 }) : t("seen");
    if (images.length === 1) { seen.append(img); return; }
    const button = document.createElement("button");
    button.type = "button";
    button.className = "seen-pick";
    button.setAttribute("aria-pressed", String(i === state.selected));
    button.append(img);
    button.addEventListener("click", () => { state.selected = i; render(); });
    seen.append(button);
  });
}

// ---------- corrections ----------
function showFeedback(visible, label) {
  $("feedback").hidden = !visible;
  $("feedback-label").textContent = label;
  const keys = $("feedback-keys");
  if (!keys.children.length) {
    for (let d = 0; d < 10; d++) {
      const key = document.createElement("button");
      key.type = "button";
      key.className = "key";
      key.dataset.digit = String(d);
      key.textContent = String(d);
      key.addEventListener("click", () => sendFeedback(d));
      keys.append(key);
    }
  }
  for (const key of keys.children) key.setAttribute("aria-label", t("sendFeedback", { digit: key.dataset.digit }));
}

/** The image a correction is about: the whole input, or in number mode the chosen digit cut out of it. */
function correctionImage() {
  const { answer, sent } = state;
  if (answer.mode !== "number") return { image: sent.image, predicted: answer.digit, confidence: answer.confidence };
  const d = answer.digits[state.selected];
  const [x, y, w, h] = d.box;
  const pad = Math.round(Math.max(w, h) * 0.2);
  const crop = document.createElement("canvas");
  crop.width = w + 2 * pad;
  crop.height = h + 2 * pad;
  const c = crop.getContext("2d");
  c.fillStyle = "#fff";
  c.fillRect(0, 0, crop.width, crop.height);
  c.drawImage(sent.pixels, x - pad, y - pad, crop.width, crop.height, 0, 0, crop.width, crop.height);
  return { image: crop.toDataURL("image/png"), predicted: d.digit, confidence: d.confidence };
}

async function sendFeedback(correct) {
  if (!state.answer) return;
  const { image, predicted, confidence } = correctionImage();
  const body = { image, correct, predicted, confidence, model_version: state.answer.model.version };
  const out = $("feedback-status");
  try {
    const response = await fetch(`${API}/feedback`, {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
    });
    const reply = await response.json().catch(() => ({ detail: response.statusText }));
    out.textContent = response.ok ? t("thanks", { id: reply.id }) : t("feedbackFailed", { error: reply.detail });
    out.dataset.ok = String(response.ok);
  } catch {
    out.textContent = t("feedbackFailed", { error: t("offline") });
    out.dataset.ok = "false";
  }
}

// ---------- page ----------
function status(message) { $("status").textContent = message; }

let model = null;
function showModel() {
  if (!model) return;
  const accuracy = model.metrics?.test_accuracy;
  $("model").textContent = typeof accuracy === "number"
    ? t("model", { name: model.name, version: model.version, accuracy: `${(accuracy * 100).toFixed(2)} %` })
    : t("modelNoAccuracy", { name: model.name, version: model.version });
}

async function loadModel() {
  try {
    const response = await fetch(`${API}/models`);
    if (response.ok) { model = (await response.json()).current; showModel(); }
  } catch {
    status(t("offline"));
  }
}

function setLanguage(language, remember) {
  $("lang").value = applyLanguage(language, { remember });
  showModel();
  render();
  if (state.answer) $("feedback-status").textContent = "";
}
$("lang").addEventListener("change", (event) => setLanguage(event.target.value, true));

setLanguage(initialLanguage(), false);
setMode("single");
loadModel();
