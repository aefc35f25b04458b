// Helios dashboard: a client of the master's REST API, nothing more. Every call goes
// through api(), which adds the bearer token (from sessionStorage, never a cookie, so that
// another site cannot make the browser send it) and sends bodies as application/json, as
// the API's browser checks demand. Live updates come from GET /events, read with fetch
// (EventSource cannot send an Authorization header); each event re-fetches only what it
// touches.
"use strict";

const TOKEN_KEY = "helios-bearer";
const state = { hosts: {}, jobs: {}, statuses: {}, history: {}, groups: {} };
const $ = (id) => document.getElementById(id);

// el builds an element; text is always set as text, never parsed as HTML.
function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "onclick") e.addEventListener("click", v);
    else if (k === "class") e.className = v;
    else e.setAttribute(k, v);
  }
  for (const c of children) {
    if (c === null || c === undefined) continue;
    e.append(c instanceof Node ? c : String(c));
  }
  return e;
}

// shortId shortens a job id's hash for a narrow column (name:version:12345678); the full
// id stays in the cell's title.
function shortId(id) {
  const parts = (id || "").split(":");
  return parts.length === 3 ? parts[0] + ":" + parts[1] + ":" + parts[2].slice(0, 8) : id || "";
}

function badge(word) { return el("span", { class: "badge state " + word }, word); }

function showError(msg) { $("error").textContent = msg || ""; }

// ---- API ----

class AuthNeeded extends Error {}

async function api(method, path, body) {
  const headers = { Accept: "application/json" };
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (token) headers.Authorization = "Bearer " + token;
  const init = { method, headers, credentials: "omit", cache: "no-store" };
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const resp = await fetch(path, init);
  if (resp.status === 401) { askToken(token ? "the token was refused" : ""); throw new AuthNeeded(); }
  if (resp.status === 204) return null;
  const text = await resp.text();
  let doc = null;
  try { doc = text ? JSON.parse(text) : null; } catch (e) { doc = null; }
  if (!resp.ok) {
    const why = doc && (doc.message || doc.status) ? (doc.message || doc.status) : resp.status + " " + resp.statusText;
    throw new Error(method + " " + path + ": " + why);
  }
  return doc;
}

const enc = encodeURIComponent;

// ---- authentication ----

function askToken(why) {
  $("login-error").textContent = why || "";
  if (!$("login").open) $("login").showModal();
}

$("login-form").addEventListener("submit", (ev) => {
  ev.preventDefault();
  sessionStorage.setItem(TOKEN_KEY, $("token-input").value.trim());
  $("token-input").value = "";
  $("login").close();
  $("logout").hidden = false;
  start();
});

$("logout").addEventListener("click", () => {
  sessionStorage.removeItem(TOKEN_KEY);
  location.reload();
});

// ---- loading ----

async function loadHosts() {
  const names = await api("GET", "/hosts");
  const statuses = await api("POST", "/hosts/statuses", names || []);
  state.hosts = statuses || {};
}

async function loadHost(name) {
  const st = await api("POST", "/hosts/statuses", [name]);
  if (st && st[name]) state.hosts[name] = st[name]; else delete state.hosts[name];
}

async function loadJobs() {
  state.jobs = (await api("GET", "/jobs")) || {};
  await Promise.all(Object.keys(state.jobs).map(loadJobDetail));
}

async function loadJob(id) {
  const jobs = await api("GET", "/jobs?q=" + enc(id));
  if (jobs && jobs[id]) { state.jobs[id] = jobs[id]; await loadJobDetail(id); }
  else { delete state.jobs[id]; delete state.statuses[id]; delete state.history[id]; }
}

async function loadJobDetail(id) {
  state.statuses[id] = await api("GET", "/jobs/" + enc(id) + "/status");
  try {
    const h = await api("GET", "/history/jobs/" + enc(id));
    state.history[id] = (h && h.events) || [];
  } catch (e) {
    state.history[id] = []; // a job never deployed has no history yet
  }
}

async function loadGroups() {
  const names = (await api("GET", "/deployment-group")) || [];
  state.groups = {};
  await Promise.all(names.map(loadGroup));
}

async function loadGroup(name) {
  try {
    state.groups[name] = await api("GET", "/deployment-group/" + enc(name) + "/status");
  } catch (e) {
    delete state.groups[name];
  }
}

// ---- rendering ----

function render() {
  renderHosts(); renderGroups(); renderJobs(); renderForms();
  const hosts = Object.values(state.hosts);
  const up = hosts.filter((h) => h.status === "UP").length;
  $("summary").textContent = `${up}/${hosts.length} hosts up · ${Object.keys(state.jobs).length} jobs · ${Object.keys(state.groups).length} groups`;
}

function renderHosts() {
  const body = $("hosts").tBodies[0];
  body.replaceChildren();
  for (const name of Object.keys(state.hosts).sort()) {
    const h = state.hosts[name];
    const statuses = Object.values(h.statuses || {});
    const labels = Object.entries(h.labels || {}).map(([k, v]) => el("span", { class: "label" }, k + "=" + v));
    const load = h.hostInfo ? h.hostInfo.loadAvg.toFixed(2) + " / " + h.hostInfo.cpus + " cpu" : "";
    body.append(el("tr", { "data-host": name },
      el("td", {}, name),
      el("td", { class: "nowrap" }, badge(h.status === "UP" ? "up" : "down"), " ", h.status),
      el("td", {}, ...labels),
      el("td", { class: "nowrap" }, load),
      el("td", { class: "deployed" }, Object.keys(h.jobs || {}).length),
      el("td", { class: "running" }, statuses.filter((s) => s.state === "RUNNING").length)));
  }
}

function renderGroups() {
  const body = $("groups").tBodies[0];
  body.replaceChildren();
  for (const name of Object.keys(state.groups).sort()) {
    const g = state.groups[name];
    const jobId = g.deploymentGroup ? g.deploymentGroup.jobId || "" : "";
    const count = g.taskCount || 0;
    const done = g.status === "DONE" ? count : (g.taskIndex || 0);
    const bar = el("progress", { max: String(Math.max(count, 1)), value: String(done) });
    const stop = el("button", { class: "danger", onclick: () => act(`stop the rollout of group ${name}?`, "POST", "/deployment-group/" + enc(name) + "/stop") }, "stop rollout");
    body.append(el("tr", { "data-group": name },
      el("td", {}, name),
      el("td", { class: "id", title: jobId }, shortId(jobId)),
      el("td", {}, badge(g.status || "")),
      el("td", {}, bar, ` ${done}/${count}`, g.error ? el("div", { class: "error" }, g.error) : null),
      el("td", {}, g.status === "ROLLING_OUT" ? stop : null)));
  }
}

function renderJobs() {
  const box = $("jobs");
  box.replaceChildren();
  for (const id of Object.keys(state.jobs).sort()) {
    const job = state.jobs[id];
    const st = state.statuses[id] || {};
    const rows = [];
    for (const host of Object.keys(st.deployments || {}).sort()) {
      const dep = st.deployments[host];
      const ts = (st.taskStatuses || {})[host] || {};
      const path = "/hosts/" + enc(host) + "/jobs/" + enc(id);
      rows.push(el("tr", { class: "task", "data-job": id, "data-host": host },
        el("td", {}, host),
        el("td", { class: "goal" }, dep.goal),
        el("td", {}, el("span", { class: "badge state " + (ts.state || "") }, ts.state || "—")),
        el("td", {}, ts.containerId ? ts.containerId.slice(0, 12) : ""),
        el("td", {},
          dep.goal !== "START" ? el("button", { onclick: () => act("", "PATCH", path, { goal: "START" }) }, "start") : null,
          dep.goal === "START" ? el("button", { class: "danger", onclick: () => act(`stop ${id} on ${host}?`, "PATCH", path, { goal: "STOP" }) }, "stop") : null,
          el("button", { class: "danger", onclick: () => act(`undeploy ${id} from ${host}?`, "DELETE", path) }, "undeploy"))));
    }
    const hist = (state.history[id] || []).slice(-5).map((e) =>
      el("li", {}, new Date(e.timestamp).toLocaleTimeString() + " " + e.host + " " + e.status.state));
    box.append(el("div", { class: "job", "data-job": id },
      el("h3", {}, id),
      el("div", {}, job.image, " ", ...(job.command || []).map((c) => el("code", {}, c + " "))),
      rows.length ? el("table", {}, el("thead", {}, el("tr", {}, ...["host", "goal", "state", "container", ""].map((h) => el("th", {}, h)))), el("tbody", {}, ...rows)) : el("p", { class: "history" }, "not deployed"),
      hist.length ? el("ol", { class: "history" }, ...hist) : null));
  }
}

function renderForms() {
  fillSelect($("deploy-job"), Object.keys(state.jobs).sort());
  fillSelect($("deploy-host"), Object.keys(state.hosts).sort());
}

function fillSelect(sel, values) {
  const keep = sel.value;
  sel.replaceChildren(...values.map((v) => el("option", { value: v }, v)));
  if (values.includes(keep)) sel.value = keep;
}

// ---- actions ----

// act runs one API call, after the user confirms when question is not empty.
async function act(question, method, path, body) {
  if (question && !confirm(question)) return;
  try {
    showError("");
    await api(method, path, body);
  } catch (e) {
    if (!(e instanceof AuthNeeded)) showError(e.message);
  }
  // The events stream brings the change; refresh now as well, for masters whose stream
  // is down.
  schedule(() => refreshAll());
}

$("deploy-form").addEventListener("submit", (ev) => {
  ev.preventDefault();
  const job = $("deploy-job").value, host = $("deploy-host").value;
  act("", "PUT", "/hosts/" + enc(host) + "/jobs/" + enc(job), { goal: "START" });
});

$("rolling-form").addEventListener("submit", (ev) => {
  ev.preventDefault();
  const group = $("ru-group").value.trim(), job = $("ru-job").value.trim();
  act(`roll group ${group} out to ${job}? Its hosts will be redeployed.`, "POST",
    "/deployment-group/" + enc(group) + "/rolling-update", { job });
});

// ---- live updates ----

// Refreshes are coalesced: a burst of events touching one job fetches it once.
const pending = new Map();
let timer = null;
function schedule(fn, key) {
  pending.set(key || fn, fn);
  if (timer) return;
  timer = setTimeout(async () => {
    timer = null;
    const fns = [...pending.values()];
    pending.clear();
    try {
      await Promise.all(fns.map((f) => f()));
      render();
    } catch (e) {
      if (!(e instanceof AuthNeeded)) showError(e.message);
    }
  }, 100);
}

function onEvent(ev) {
  const log = $("events");
  log.append(el("li", {}, `${ev.type} ${ev.host || ""} ${ev.jobId || ""} ${ev.group || ""} ${ev.payload && ev.payload.state ? ev.payload.state : ""}`));
  while (log.children.length > 200) log.firstChild.remove();
  log.scrollTop = log.scrollHeight;
  if (ev.jobId) schedule(() => loadJob(ev.jobId), "job:" + ev.jobId);
  if (ev.host) schedule(() => loadHost(ev.host), "host:" + ev.host);
  if (ev.group) schedule(() => loadGroup(ev.group), "group:" + ev.group);
  if (ev.type === "HOST_REGISTERED" || ev.type === "HOST_DEREGISTERED") schedule(loadHosts, "hosts");
  if (ev.type === "GROUP_CREATED" || ev.type === "GROUP_REMOVED") schedule(loadGroups, "groups");
  if (ev.type === "STREAM_RESET" || ev.type === "STREAM_COMPACTED") schedule(refreshAll, "all");
}

// follow reads GET /events for as long as the page lives, resuming after a cut from the
// last event handled, so nothing is missed or shown twice.
async function follow() {
  let rev = 0, idx = -1, delay = 500;
  for (;;) {
    try {
      const headers = { Accept: "application/x-ndjson" };
      const token = sessionStorage.getItem(TOKEN_KEY);
      if (token) headers.Authorization = "Bearer " + token;
      const url = rev ? "/events?fromRevision=" + rev : "/events";
      const resp = await fetch(url, { headers, credentials: "omit", cache: "no-store" });
      if (resp.status === 401) { started = false; askToken(token ? "the token was refused" : ""); return; }
      if (resp.status === 410) { rev = 0; idx = -1; schedule(refreshAll, "all"); continue; }
      if (!resp.ok) throw new Error("GET /events: " + resp.status);
      $("live").textContent = "live"; $("live").className = "badge live";
      delay = 500;
      const reader = resp.body.pipeThrough(new TextDecoderStream()).getReader();
      let buf = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buf += value;
        let nl;
        while ((nl = buf.indexOf("\n")) >= 0) {
          const line = buf.slice(0, nl).trim();
          buf = buf.slice(nl + 1);
          if (!line) continue; // heartbeat
          const ev = JSON.parse(line);
          if (ev.revision && !(ev.revision > rev || (ev.revision === rev && ev.index > idx))) continue;
          if (ev.revision) { rev = ev.revision; idx = ev.index; }
          onEvent(ev);
        }
      }
    } catch (e) {
      showError("event stream: " + e.message);
    }
    $("live").textContent = "reconnecting"; $("live").className = "badge off";
    await new Promise((r) => setTimeout(r, delay)); // back off before reconnecting
    delay = Math.min(delay * 2, 10000);
  }
}

async function refreshAll() {
  await Promise.all([loadHosts(), loadJobs(), loadGroups()]);
}

let started = false;
async function start() {
  // Follow first: whatever changes while the lists load is then seen as an event.
  if (!started) { started = true; follow(); }
  try {
    await refreshAll();
    render();
    showError("");
  } catch (e) {
    if (!(e instanceof AuthNeeded)) showError(e.message);
  }
}

if (sessionStorage.getItem(TOKEN_KEY)) $("logout").hidden = false;
start();
