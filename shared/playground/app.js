// The playground: plain JavaScript, no framework, no build step. It talks only to the public API on
// the origin it was served from (the Content-Security-Policy allows nothing else).

const API = new URL(".", window.location.href); // the page is <base>/playground: the API is <base>/
const KEY_STORAGE = "imagegen.playground.apiKey";
const TERMINAL = new Set(["succeeded", "failed", "canceled"]);
const PAGE_SIZE = 12;

const $ = (id) => document.getElementById(id);

const state = {
  key: window.localStorage.getItem(KEY_STORAGE) || "",
  catalog: null,
  references: [], // {kind: "b64", b64, name, preview} | {kind: "output", id, preview}
  mask: null, // {b64, name}
  job: null,
  startedAt: 0,
  timer: 0,
  polling: 0, // increments per submit, so an older poll loop stops when a new job starts
  pages: { library: null, gallery: null },
};

class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

// --- HTTP ------------------------------------------------------------------------------------------

async function api(path, { method = "GET", body, auth = true } = {}) {
  const headers = { Accept: "application/json" };
  if (auth) {
    if (!state.key) throw new ApiError(401, "NO_KEY", "Enter an API key first.");
    headers.Authorization = `Bearer ${state.key}`; // API keys and OIDC tokens alike
  }
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let response;
  try {
    response = await fetch(new URL(path, API), {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: "omit",
      cache: "no-store",
    });
  } catch (error) {
    throw new ApiError(0, "NETWORK", `The API could not be reached (${error.message}).`);
  }
  const text = await response.text();
  const data = text ? JSON.parse(text) : null;
  if (!response.ok) {
    const envelope = (data && data.error) || {};
    throw new ApiError(response.status, envelope.code || String(response.status), envelope.message || response.statusText);
  }
  return { data, status: response.status, retryAfter: Number(response.headers.get("Retry-After")) || null };
}

function showError(error) {
  const box = $("error");
  if (!error) {
    box.hidden = true;
    box.textContent = "";
    return;
  }
  box.textContent = error.code ? `${error.code}: ${error.message}` : String(error.message || error);
  box.hidden = false;
}

// --- small DOM helpers -----------------------------------------------------------------------------

function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(props)) {
    if (value === undefined || value === null) continue;
    if (name === "class") node.className = value;
    else if (name === "dataset") Object.assign(node.dataset, value);
    else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else if (name in node) node[name] = value;
    else node.setAttribute(name, value);
  }
  for (const child of children.flat()) {
    if (child !== null && child !== undefined && child !== false) node.append(child);
  }
  return node;
}

function option(value, label = value) {
  return el("option", { value, textContent: label });
}

function formatBytes(bytes) {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} kB`;
  return `${(bytes / 1024 / 1024).toFixed(2)} MB`;
}

function formatSeconds(ms) {
  return `${(ms / 1000).toFixed(1)} s`;
}

function readFile(file) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result)); // a data: URL, which the API takes as b64
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(file);
  });
}

// --- API key ---------------------------------------------------------------------------------------

function renderKeyState() {
  $("api-key").value = state.key;
  $("key-state").textContent = state.key ? "key saved in this browser" : "no key";
}

async function useKey(key) {
  state.key = key.trim();
  if (state.key) window.localStorage.setItem(KEY_STORAGE, state.key);
  else window.localStorage.removeItem(KEY_STORAGE);
  renderKeyState();
  showError(null);
  if (state.key) await loadCatalog();
}

// --- the catalog: providers, models, what each can take ----------------------------------------------

async function loadCatalog() {
  try {
    const { data } = await api("v1/models");
    state.catalog = data;
  } catch (error) {
    showError(error);
    return;
  }
  const provider = $("provider");
  provider.replaceChildren(...state.catalog.providers.map((p) => option(p.name)));
  const preferred = state.catalog.providers.find((p) => p.isDefault) || state.catalog.providers[0];
  if (preferred) provider.value = preferred.name;
  $("aspect-ratio").replaceChildren(...state.catalog.aspectRatios.map((r) => option(r)));
  $("aspect-ratio").value = "1:1";
  $("resolution").replaceChildren(...state.catalog.resolutions.map((r) => option(r)));
  $("resolution").value = "standard";
  $("n").max = String(state.catalog.maxImagesPerJob);
  renderModels();
}

function currentProvider() {
  return state.catalog?.providers.find((p) => p.name === $("provider").value) || null;
}

function currentModel() {
  return currentProvider()?.models.find((m) => m.id === $("model").value) || null;
}

function renderModels() {
  const provider = currentProvider();
  const models = provider ? provider.models : [];
  $("model").replaceChildren(...models.map((m) => option(m.id, `${m.id} (${m.family})`)));
  const preferred = models.find((m) => m.isDefault) || models[0];
  if (preferred) $("model").value = preferred.id;
  renderCapabilities();
}

function renderCapabilities() {
  const model = currentModel();
  const maxReferences = model ? model.maxReferenceImages : 0;
  $("reference-files").disabled = maxReferences === 0;
  $("reference-limit").textContent = maxReferences === 0 ? "(this model cannot edit images)" : `(up to ${maxReferences})`;
  $("mask-box").hidden = !(model && model.mask);
  if (!(model && model.mask)) clearMask();
  $("negative-row").hidden = !(model && model.negativePrompt);
}

// --- reference images and mask ---------------------------------------------------------------------

function renderReferences() {
  const list = $("references");
  list.replaceChildren(
    ...state.references.map((ref, index) =>
      el(
        "li",
        {},
        ref.preview ? el("img", { src: ref.preview, alt: "" }) : null,
        el("span", { textContent: ref.kind === "output" ? `output ${ref.id}` : ref.name }),
        el("button", {
          type: "button",
          class: "secondary",
          textContent: "×",
          title: "Remove",
          onclick: () => {
            state.references.splice(index, 1);
            renderReferences();
          },
        }),
      ),
    ),
  );
}

function addOutputReference(id, preview) {
  const limit = currentModel()?.maxReferenceImages ?? 0;
  if (state.references.length >= limit) {
    showError(new ApiError(400, "REFERENCES", limit ? `This model takes at most ${limit} reference images.` : "This model cannot edit images."));
    return;
  }
  state.references.push({ kind: "output", id, preview });
  renderReferences();
  selectTab("generate");
}

async function addReferenceFiles(files) {
  for (const file of files) {
    state.references.push({ kind: "b64", b64: await readFile(file), name: file.name, preview: URL.createObjectURL(file) });
  }
  renderReferences();
}

function clearMask() {
  state.mask = null;
  $("mask-file").value = "";
}

// --- submit, live status, results ------------------------------------------------------------------

function requestBody() {
  const body = {
    prompt: $("prompt").value.trim(),
    provider: $("provider").value || undefined,
    model: $("model").value || undefined,
    aspectRatio: $("aspect-ratio").value || "1:1",
    resolution: $("resolution").value || "standard",
    n: Number($("n").value) || 1,
    isPublic: $("is-public").checked,
  };
  const negative = $("negative-prompt").value.trim();
  if (negative && !$("negative-row").hidden) body.negativePrompt = negative;
  if (state.references.length) {
    body.referenceImages = state.references.map((ref) => (ref.kind === "output" ? { outputId: ref.id } : { b64: ref.b64 }));
  }
  if (state.mask) body.mask = { b64: state.mask.b64 };
  return body;
}

async function submit(event) {
  event.preventDefault();
  showError(null);
  const generation = ++state.polling;
  $("generate").disabled = true;
  try {
    const { data, retryAfter } = await api("v1/images/generations", { method: "POST", body: requestBody() });
    state.startedAt = performance.now();
    startClock();
    $("results").replaceChildren();
    renderJob(data);
    await follow(data, retryAfter, generation);
  } catch (error) {
    showError(error);
  } finally {
    $("generate").disabled = false;
  }
}

async function follow(job, retryAfter, generation) {
  while (!TERMINAL.has(job.status)) {
    // The status route says how long to wait (Retry-After); a short floor keeps the page responsive.
    const seconds = Math.min(Math.max(retryAfter || 1, 0.5), 10);
    await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
    if (generation !== state.polling) return; // a newer job took over the panel
    const answer = await api(`v1/images/generations/${encodeURIComponent(job.id)}`);
    job = answer.data;
    retryAfter = answer.retryAfter;
    renderJob(job);
  }
}

function startClock() {
  window.clearInterval(state.timer);
  state.timer = window.setInterval(renderElapsed, 100);
}

function renderElapsed() {
  $("job-elapsed").textContent = formatSeconds(performance.now() - state.startedAt);
}

function renderJob(job) {
  state.job = job;
  $("job").hidden = false;
  const status = $("job-status");
  status.textContent = job.status;
  status.dataset.status = job.status;
  $("job-id").textContent = job.id;
  // Queue position and estimated start appear when the service reports them.
  const queue = [];
  if (job.status === "queued" && Number.isInteger(job.queuePosition)) queue.push(`position ${job.queuePosition} in the queue`);
  if (job.status === "queued" && job.estimatedStartAt) queue.push(`starts about ${new Date(job.estimatedStartAt).toLocaleTimeString()}`);
  if (job.retryCount) queue.push(`retry ${job.retryCount}`);
  $("job-queue").textContent = queue.join(" · ");
  $("job-queue").hidden = queue.length === 0;
  $("cancel").hidden = TERMINAL.has(job.status);
  const error = $("job-error");
  error.hidden = !job.error;
  error.textContent = job.error ? `${job.error.code}: ${job.error.message}` : "";
  $("job-warnings").replaceChildren(...(job.warnings || []).map((w) => el("li", { textContent: w })));
  const details = [];
  if (job.servedBy) details.push(`served by ${job.servedBy}`);
  else details.push(`${job.provider}/${job.model}`);
  if (job.size) details.push(`size ${job.size}`);
  if (job.processingTimeMs !== null && job.processingTimeMs !== undefined) details.push(`processing ${formatSeconds(job.processingTimeMs)}`);
  if (job.credits !== null && job.credits !== undefined) details.push(`${job.credits} credit${job.credits === 1 ? "" : "s"}`);
  if (job.revisedPrompt) details.push(`revised prompt: “${job.revisedPrompt}”`);
  $("job-details").textContent = details.join(" · ");
  if (TERMINAL.has(job.status)) {
    window.clearInterval(state.timer);
    renderElapsed();
    $("results").replaceChildren(...job.outputs.map((output) => outputCard(job, output)));
  }
}

function outputCard(job, output) {
  return el(
    "article",
    { class: "card", dataset: { imageId: output.id || "" } },
    el("img", { src: output.url, alt: job.prompt, width: output.width, height: output.height }),
    el(
      "div",
      { class: "meta" },
      el("span", { class: "size", textContent: `${output.width}×${output.height} · ${output.mimeType} · ${formatBytes(output.bytes)}` }),
      job.revisedPrompt ? el("span", { textContent: `revised: ${job.revisedPrompt}` }) : null,
      el("span", { textContent: `served by ${job.servedBy || `${job.provider}/${job.model}`}` }),
    ),
    el(
      "div",
      { class: "actions" },
      el("a", { href: output.url, target: "_blank", rel: "noopener", textContent: "Open" }),
      output.id ? el("button", { type: "button", class: "secondary", textContent: "Use as reference", onclick: () => addOutputReference(output.id, output.url) }) : null,
    ),
  );
}

async function cancel() {
  if (!state.job) return;
  try {
    const { data } = await api(`v1/images/generations/${encodeURIComponent(state.job.id)}/cancel`, { method: "POST" });
    renderJob(data);
  } catch (error) {
    showError(error);
  }
}

// --- library and gallery ---------------------------------------------------------------------------

function imageCard(image, { owned }) {
  return el(
    "article",
    { class: "card", dataset: { imageId: image.id } },
    el("img", { src: image.url, alt: image.prompt, width: image.width, height: image.height, loading: "lazy" }),
    el(
      "div",
      { class: "meta" },
      el("span", { class: "prompt", textContent: image.prompt }),
      el("span", { class: "size", textContent: `${image.width}×${image.height} · ${image.mimeType} · ${formatBytes(image.bytes)}` }),
      el("span", { textContent: `${image.provider}/${image.model} · ${new Date(image.createdAt).toLocaleString()}` }),
    ),
    el(
      "div",
      { class: "actions" },
      el("a", { href: image.url, target: "_blank", rel: "noopener", textContent: "Open" }),
      owned ? el("button", { type: "button", class: "secondary", textContent: "Use as reference", onclick: () => addOutputReference(image.id, image.url) }) : null,
    ),
  );
}

async function loadImages(kind, { more = false } = {}) {
  const grid = $(kind);
  const params = new URLSearchParams({ limit: String(PAGE_SIZE) });
  if (more && state.pages[kind]) params.set("pageToken", state.pages[kind]);
  const search = $("library-search").value.trim();
  if (kind === "library" && search) params.set("search", search);
  const path = kind === "library" ? "v1/images" : "v1/gallery";
  try {
    const { data } = await api(`${path}?${params}`, { auth: kind === "library" });
    const cards = data.items.map((image) => imageCard(image, { owned: kind === "library" }));
    if (more) grid.append(...cards);
    else grid.replaceChildren(...cards);
    if (!more && cards.length === 0) grid.replaceChildren(el("p", { class: "muted", textContent: "No images yet." }));
    state.pages[kind] = data.nextPageToken || null;
    $(`${kind}-more`).hidden = !state.pages[kind];
  } catch (error) {
    showError(error);
  }
}

// --- tabs and wiring -------------------------------------------------------------------------------

function selectTab(name) {
  for (const tab of document.querySelectorAll("[data-tab]")) tab.setAttribute("aria-selected", String(tab.dataset.tab === name));
  for (const panel of document.querySelectorAll("[data-panel]")) panel.hidden = panel.dataset.panel !== name;
  if (name === "library" || name === "gallery") loadImages(name);
}

function wire() {
  $("key-form").addEventListener("submit", (event) => {
    event.preventDefault();
    useKey($("api-key").value);
  });
  $("forget-key").addEventListener("click", () => useKey(""));
  for (const tab of document.querySelectorAll("[data-tab]")) tab.addEventListener("click", () => selectTab(tab.dataset.tab));
  $("provider").addEventListener("change", renderModels);
  $("model").addEventListener("change", renderCapabilities);
  $("reference-files").addEventListener("change", async (event) => {
    await addReferenceFiles([...event.target.files]);
    event.target.value = "";
  });
  $("mask-file").addEventListener("change", async (event) => {
    const [file] = event.target.files;
    state.mask = file ? { b64: await readFile(file), name: file.name } : null;
  });
  $("clear-mask").addEventListener("click", clearMask);
  $("generate-form").addEventListener("submit", submit);
  $("cancel").addEventListener("click", cancel);
  $("library-form").addEventListener("submit", (event) => {
    event.preventDefault();
    loadImages("library");
  });
  $("library-more").addEventListener("click", () => loadImages("library", { more: true }));
  $("gallery-more").addEventListener("click", () => loadImages("gallery", { more: true }));
}

wire();
renderKeyState();
if (state.key) loadCatalog();
