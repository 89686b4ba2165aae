// clinx-serve's try-a-model page. Plain browser JavaScript, no build step, nothing fetched from
// anywhere but this server (the page's Content-Security-Policy enforces it).
// Note text is only ever put into the page as DOM text nodes, never parsed as HTML.

const KEY_STORAGE = "clinx-api-key";
const ASSERTION_BADGES = {
  absent: "negated",
  possible: "possible",
  conditional: "conditional",
  hypothetical: "hypothetical",
  associated_with_someone_else: "family",
};
const PALETTE_SIZE = 10;

const $ = (id) => document.getElementById(id);
const state = { models: [], samples: [], key: sessionStorage.getItem(KEY_STORAGE) || "" };

// ---------------------------------------------------------------- API calls (same origin only)

class ApiError extends Error {
  constructor(status, body) {
    const error = body && body.error ? body.error : {};
    super(error.message || `HTTP ${status}`);
    this.status = status;
    this.type = error.type || String(status);
  }
}

async function api(path, body) {
  const headers = { Accept: "application/json" };
  if (state.key) headers["X-API-Key"] = state.key;
  const init = { headers, credentials: "same-origin", cache: "no-store" };
  if (body !== undefined) {
    init.method = "POST";
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const response = await fetch(path, init); // relative: works behind a path prefix too
  let payload = null;
  try {
    payload = await response.json();
  } catch {
    payload = null;
  }
  if (!response.ok) throw new ApiError(response.status, payload);
  return payload;
}

function setStatus(message, isError = false) {
  const status = $("status");
  status.textContent = message;
  status.classList.toggle("error", isError);
  status.setAttribute("role", isError ? "alert" : "status");
}

function askForKey(reason) {
  const form = $("key-form");
  $("key-reason").textContent = reason;
  form.hidden = false;
  $("key").focus();
}

function handleError(error) {
  if (error instanceof ApiError && (error.status === 401 || error.status === 403)) {
    askForKey(error.status === 401 ? "This server requires an API key." : "The server refused this API key; enter another.");
    setStatus(error.message, true);
    return;
  }
  setStatus(error instanceof ApiError ? `${error.status} ${error.type}: ${error.message}` : `Request failed: ${error.message}`, true);
}

// ---------------------------------------------------------------- models

async function loadInfo() {
  try {
    const info = await api("info");
    $("key-form").hidden = true;
    $("forget-key").hidden = !state.key;
    if (!info.ready || !info.models.length) {
      setStatus("The model is loading; this page retries every 2 seconds…");
      setTimeout(loadInfo, 2000);
      return;
    }
    state.models = info.models;
    const select = $("model");
    select.replaceChildren(...info.models.map((model) => new Option(`${model.name} ${model.version}`, model.name)));
    select.value = info.default_model || info.models[0].name;
    select.disabled = false;
    showModel();
    setStatus("Ready.");
  } catch (error) {
    handleError(error);
  }
}

function currentModel() {
  return state.models.find((model) => model.name === $("model").value);
}

// A de-identification bundle: /info's task_type (or, from older servers, a task that says so).
function isDeid(model) {
  if (!model) return false;
  if (model.task_type) return model.task_type === "deid";
  return /^(deid|de-?identification)\b/i.test(String(model.task || ""));
}

function showModel() {
  const model = currentModel();
  if (!model) return;
  const facts = [
    ["name", model.name],
    ["version", model.version],
    ["task", model.task_type ? `${model.task_type}: ${model.task}` : model.task],
    ["sha256", model.sha256],
    ["labels", (model.labels || []).join(", ")],
    ["runs on", `${model.execution_provider || "?"} (${model.variant || "?"})`],
  ];
  $("model-facts").replaceChildren(
    ...facts.flatMap(([term, value]) => {
      const dt = document.createElement("dt");
      dt.textContent = term;
      const dd = document.createElement("dd");
      if (term === "sha256") {
        const code = document.createElement("code");
        code.textContent = value;
        dd.append(code);
      } else {
        dd.textContent = value;
      }
      return [dt, dd];
    }),
  );
  const notice = $("demo-notice");
  notice.hidden = !model.demo;
  notice.textContent = model.demo ? model.notice || "Demo model: not for clinical use." : "";
  const deid = isDeid(model);
  for (const id of ["deidentify", "operator", "operator-label"]) $(id).hidden = !deid;
  $("extract").disabled = false;
  $("deidentify").disabled = !deid;
}

// ---------------------------------------------------------------- rendering spans

function colourIndex(model, label) {
  const labels = model && model.labels ? model.labels : [];
  let index = labels.indexOf(label);
  if (index < 0) {
    index = 0;
    for (const char of label) index = (index * 31 + char.codePointAt(0)) >>> 0;
  }
  return index % PALETTE_SIZE;
}

function codePoints(text, utf16Index) {
  return Array.from(text.slice(0, utf16Index)).length;
}

// Builds the text with <mark> elements for spans (sorted, disjoint; offsets are UTF-16 indices of `text`).
function renderSpans(container, text, spans, model) {
  const fragment = document.createDocumentFragment();
  let position = 0;
  let skipped = 0;
  for (const span of [...spans].sort((a, b) => a.start - b.start || b.end - a.end)) {
    if (span.start < position || span.end > text.length || span.end <= span.start) {
      skipped += 1;
      continue;
    }
    fragment.append(document.createTextNode(text.slice(position, span.start)));
    const mark = document.createElement("mark");
    mark.className = `entity c${colourIndex(model, span.label)}`;
    mark.tabIndex = 0;
    mark.dataset.label = span.label;
    mark.dataset.start = String(span.start);
    mark.dataset.end = String(span.end);
    if (span.assertion) mark.dataset.assertion = span.assertion;
    if (span.historical) mark.dataset.historical = "true";
    mark.dataset.badge = badge(span);
    mark.append(document.createTextNode(text.slice(span.start, span.end)));
    mark.details = details(text, span);
    fragment.append(mark);
    position = span.end;
  }
  fragment.append(document.createTextNode(text.slice(position)));
  container.replaceChildren(fragment);
  return skipped;
}

function badge(span) {
  const parts = [span.category && span.category !== span.label ? `${span.category}/${span.label}` : span.label];
  if (span.assertion && ASSERTION_BADGES[span.assertion]) parts.push(ASSERTION_BADGES[span.assertion]);
  if (span.historical) parts.push("history");
  if (span.operator) parts.push(span.operator);
  return parts.join(" · ");
}

function details(text, span) {
  const rows = [["label", span.label]];
  if (span.category) rows.push(["category", span.category]);
  if (span.assertion) rows.push(["assertion", span.assertion]);
  if (span.historical !== undefined) rows.push(["historical", String(span.historical)]);
  if (span.score !== undefined) rows.push(["score", Number(span.score).toFixed(4)]);
  if (span.operator) rows.push(["operator", span.operator]);
  if (span.original) rows.push(["in the original", `${span.original.start}–${span.original.end} (UTF-16)`]);
  rows.push(["offsets", `${span.start}–${span.end} (UTF-16), ${codePoints(text, span.start)}–${codePoints(text, span.end)} (code points)`]);
  return rows;
}

function showTip(mark) {
  hideTip();
  const tip = $("tip");
  mark.setAttribute("aria-describedby", "tip"); // only the span whose details are showing
  const list = document.createElement("dl");
  for (const [term, value] of mark.details) {
    const dt = document.createElement("dt");
    dt.textContent = term;
    const dd = document.createElement("dd");
    dd.textContent = value;
    list.append(dt, dd);
  }
  tip.replaceChildren(list);
  tip.hidden = false;
  const box = mark.getBoundingClientRect();
  const width = Math.min(tip.offsetWidth, document.documentElement.clientWidth - 16);
  const left = Math.max(8, Math.min(box.left, document.documentElement.clientWidth - width - 8));
  tip.style.left = `${left + window.scrollX}px`;
  tip.style.top = `${box.bottom + window.scrollY + 6}px`;
}

function hideTip() {
  $("tip").hidden = true;
  for (const owner of document.querySelectorAll('[aria-describedby="tip"]')) owner.removeAttribute("aria-describedby");
}

function legend(spansByView, model) {
  const counts = new Map();
  const labels = model.labels || [];
  if (labels.length <= PALETTE_SIZE) for (const label of labels) counts.set(label, 0); // short lists: the full key
  for (const span of spansByView) counts.set(span.label, (counts.get(span.label) || 0) + 1);
  const items = [...counts].map(([label, count]) => {
    const item = document.createElement("li");
    const swatch = document.createElement("span");
    swatch.className = `swatch c${colourIndex(model, label)}`;
    swatch.setAttribute("aria-hidden", "true");
    item.append(swatch, document.createTextNode(`${label} (${count})`));
    return item;
  });
  if (spansByView.some((span) => span.assertion)) {
    for (const [assertion, word] of Object.entries(ASSERTION_BADGES)) {
      const item = document.createElement("li");
      const sample = document.createElement("mark");
      sample.className = "entity sample";
      sample.dataset.assertion = assertion;
      sample.textContent = word;
      item.append(sample);
      items.push(item);
    }
  }
  $("legend").replaceChildren(...items);
}

function showResponse(payload) {
  $("raw-json").textContent = JSON.stringify(payload, null, 2);
  const identity = payload.model || {};
  $("response-model").textContent = `Answered by ${identity.name} ${identity.version} (sha256 ${identity.sha256}).`;
  $("results").hidden = false;
}

// ---------------------------------------------------------------- actions

function noteText() {
  const text = $("note").value;
  if (!text.trim()) {
    setStatus("Type, paste or choose a note first.", true);
    $("note").focus();
    return null;
  }
  return text;
}

async function run(button, work) {
  const text = noteText();
  if (text === null) return;
  const buttons = [$("extract"), $("deidentify")];
  buttons.forEach((b) => (b.disabled = true));
  $("results").setAttribute("aria-busy", "true");
  setStatus(`${button.textContent}…`);
  try {
    await work(text, currentModel());
  } catch (error) {
    handleError(error);
  } finally {
    $("results").removeAttribute("aria-busy");
    $("extract").disabled = false;
    $("deidentify").disabled = !isDeid(currentModel());
  }
}

async function extract(text, model) {
  const payload = await api("extract", {
    documents: [{ id: "note", text }],
    model: model.name,
    offset_encoding: "utf16",
  });
  const entities = payload.documents[0].entities;
  const skipped = renderSpans($("rendered"), text, entities, model);
  $("rendered").setAttribute("aria-label", "Note with highlighted concepts");
  $("deid-section").hidden = true;
  legend(entities, model);
  showResponse(payload);
  setStatus(`${entities.length} concept${entities.length === 1 ? "" : "s"} found.${skipped ? ` ${skipped} overlapping span(s) not highlighted.` : ""}`);
}

async function deidentify(text, model) {
  const request = { documents: [{ id: "note", text }], model: model.name, offset_encoding: "utf16" };
  const operator = $("operator").value;
  if (operator) request.operators = { DEFAULT: operator }; // every PHI category, unless a key says otherwise
  const payload = await api("deidentify", request);
  const answer = payload.documents[0];
  const found = answer.items.map((item) => ({ ...item }));
  const replaced = answer.items.map((item) => ({
    ...item,
    start: item.new_start,
    end: item.new_end,
    original: { start: item.start, end: item.end },
  }));
  renderSpans($("rendered"), text, found, model);
  $("rendered").setAttribute("aria-label", "Note with the PHI found highlighted");
  renderSpans($("deid-rendered"), answer.text, replaced, model);
  $("deid-section").hidden = false;
  legend(found, model);
  showResponse(payload);
  setStatus(`${found.length} PHI span${found.length === 1 ? "" : "s"} replaced.`);
}

// ---------------------------------------------------------------- wiring

async function loadSamples() {
  try {
    const response = await fetch("ui/samples.json", { cache: "no-store" });
    state.samples = await response.json();
  } catch {
    state.samples = [];
  }
  $("sample").append(...state.samples.map((sample, index) => new Option(sample.title, String(index))));
}

function wire() {
  $("key-form").addEventListener("submit", (event) => {
    event.preventDefault();
    state.key = $("key").value.trim();
    sessionStorage.setItem(KEY_STORAGE, state.key);
    $("key").value = "";
    loadInfo();
  });
  $("forget-key").addEventListener("click", () => {
    sessionStorage.removeItem(KEY_STORAGE);
    state.key = "";
    $("forget-key").hidden = true;
    setStatus("API key forgotten.");
  });
  $("model").addEventListener("change", showModel);
  $("sample").addEventListener("change", () => {
    const sample = state.samples[Number($("sample").value)];
    if (sample) $("note").value = sample.text;
  });
  $("extract").addEventListener("click", () => run($("extract"), extract));
  $("deidentify").addEventListener("click", () => run($("deidentify"), deidentify));
  for (const view of [$("rendered"), $("deid-rendered")]) {
    view.addEventListener("mouseover", (event) => event.target.closest("mark.entity") && showTip(event.target.closest("mark.entity")));
    view.addEventListener("mouseout", (event) => event.target.closest("mark.entity") && hideTip());
    view.addEventListener("focusin", (event) => event.target.matches("mark.entity") && showTip(event.target));
    view.addEventListener("focusout", hideTip);
  }
  document.addEventListener("keydown", (event) => event.key === "Escape" && hideTip());
  window.addEventListener("resize", () => {
    const owner = document.querySelector('[aria-describedby="tip"]');
    if (owner) showTip(owner); // follow the span as the text reflows
  });
}

wire();
loadSamples();
loadInfo();
