// Helios dashboard: a client of the master's REST API, nothing more. Every call goes
// through api(), which adds the bearer token (from sessionStorage, never a cookie, so that
// another site cannot make the browser send it) and sends bodies as application/json, as
// the API's browser checks demand. Live updates come from GET /events, read with fetch
// (EventSource cannot send an Authorization header); events mark what they touch, and
// one coalesced refresh at a time fetches it (see "live updates").
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
//
// Hosts are all kept with their statuses, for the counts and the filter; jobs are all kept
// as definitions, but their statuses and history are fetched only for the jobs shown (a page
// of them): with thousands of jobs the details of all would be thousands of requests.

async function loadHosts() {
  const names = (await api("GET", "/hosts")) || [];
  state.hosts = await hostStatuses(names);
}

// loadHostStatuses refreshes the named hosts; a host left out of the answer is gone
// (deregistered).
async function loadHostStatuses(names) {
  const st = await hostStatuses(names);
  for (const n of names) {
    if (st[n]) state.hosts[n] = st[n]; else delete state.hosts[n];
  }
}

// STATUS_BATCH names per POST /hosts/statuses keep a body under the API's 1 MiB limit
// even with the longest host names.
const STATUS_BATCH = 2000;

async function hostStatuses(names) {
  const batches = [];
  for (let i = 0; i < names.length; i += STATUS_BATCH) batches.push(names.slice(i, i + STATUS_BATCH));
  const answers = await Promise.all(batches.map((b) => api("POST", "/hosts/statuses", b)));
  return Object.assign({}, ...answers.map((a) => a || {}));
}

async function loadJobs() {
  state.jobs = (await api("GET", "/jobs")) || {};
  state.statuses = {};
  state.history = {};
}

function forgetJob(id) {
  delete state.jobs[id]; delete state.statuses[id]; delete state.history[id];
}

// loadJobDetails fetches the statuses of ids (with their definitions) in one request, then
// the history of those deployed somewhere; a job left out of the answer is gone.
async function loadJobDetails(ids) {
  if (!ids.length) return;
  const st = (await api("POST", "/jobs/statuses", ids)) || {};
  await Promise.all(ids.map(async (id) => {
    const s = st[id];
    if (!s) { forgetJob(id); return; }
    if (s.job) state.jobs[id] = s.job;
    state.statuses[id] = s;
    // A job deployed nowhere has no history worth a request (never deployed: none at all).
    state.history[id] = Object.keys(s.deployments || {}).length ? await loadHistory(id) : [];
  }));
}

async function loadHistory(id) {
  try {
    const h = await api("GET", "/history/jobs/" + enc(id));
    return (h && h.events) || [];
  } catch (e) {
    if (e instanceof AuthNeeded) throw e;
    return []; // no history yet
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
    if (e instanceof AuthNeeded) throw e;
    delete state.groups[name];
  }
}

// ---- what is shown ----

// PAGE is how many hosts, and how many jobs, are shown at first and added by "show more".
const PAGE = 50;
const view = { filter: "", hostLimit: PAGE, jobLimit: PAGE };

// The filter is a case-insensitive substring of a host's name or one of its labels
// (written key=value), of a job's id, or of a group's name or job id.
function filterWord() { return view.filter.trim().toLowerCase(); }

function hostMatches(name, f) {
  if (!f || name.toLowerCase().includes(f)) return true;
  const labels = (state.hosts[name] && state.hosts[name].labels) || {};
  return Object.entries(labels).some(([k, v]) => (k + "=" + v).toLowerCase().includes(f));
}

function jobMatches(id, f) { return !f || id.toLowerCase().includes(f); }

function groupMatches(name, f) {
  const g = state.groups[name] || {};
  const job = (g.deploymentGroup && g.deploymentGroup.jobId) || "";
  return !f || name.toLowerCase().includes(f) || job.toLowerCase().includes(f);
}

function matchingHosts() { const f = filterWord(); return Object.keys(state.hosts).filter((n) => hostMatches(n, f)).sort(); }
function matchingJobs() { const f = filterWord(); return Object.keys(state.jobs).filter((id) => jobMatches(id, f)).sort(); }
function shownJobs() { return matchingJobs().slice(0, view.jobLimit); }

// ---- rendering ----

function render() {
  const f = filterWord();
  renderHosts(); renderGroups(f); renderJobs(); renderForms();
  // The counts are over everything, whatever the filter and the pages show.
  const hosts = Object.values(state.hosts);
  const up = hosts.filter((h) => h.status === "UP").length;
  $("summary").textContent = `${up}/${hosts.length} hosts up · ${Object.keys(state.jobs).length} jobs · ${Object.keys(state.groups).length} groups`;
}

// renderMore says how many of the matching rows are shown, and offers the next page.
function renderMore(what, shown, matching, total) {
  const filtered = matching === total ? "" : ` (${total} in all)`;
  $(what + "-count").textContent = `showing ${shown} of ${matching} ${what}${filtered}`;
  $(what + "-more").hidden = shown >= matching;
}

function renderHosts() {
  const body = $("hosts").tBodies[0];
  const names = matchingHosts();
  const shown = names.slice(0, view.hostLimit);
  body.replaceChildren();
  for (const name of shown) {
    const h = state.hosts[name];
    const statuses = Object.values(h.statuses || {});
    const labels = Object.entries(h.labels || {}).map(([k, v]) => el("span", { class: "label" }, k + "=" + v));
    const load = h.hostInfo ? h.hostInfo.loadAvg.toFixed(2) + " / " + h.hostInfo.cpus + " cpu" : "";
    body.append(el("tr", { "data-host": name },
      el("td", {}, name),
      el("td", { class: "nowrap" }, badge(h.status === "UP" ? "up" : "down"), " ", h.status, restoreBadge(name, h.restoreSuspected)),
      el("td", {}, ...labels),
      el("td", { class: "nowrap" }, load),
      el("td", { class: "deployed" }, Object.keys(h.jobs || {}).length),
      el("td", { class: "running" }, statuses.filter((s) => s.state === "RUNNING").length)));
  }
  renderMore("hosts", shown.length, names.length, Object.keys(state.hosts).length);
}

// restoreBadge marks a host whose agent holds back every removal after a suspected etcd
// restore, until `helios accept-restore` (docs/operations.md).
function restoreBadge(name, r) {
  if (!r) return null;
  return el("span", { class: "badge restore-suspected", title: `etcd holds generation ${r.etcdGeneration}, the agent acted on ${r.agentGeneration}; ${r.heldActions} actions held back; helios accept-restore ${name}` }, "restore suspected");
}

function renderGroups(f) {
  const body = $("groups").tBodies[0];
  body.replaceChildren();
  for (const name of Object.keys(state.groups).filter((n) => groupMatches(n, f)).sort()) {
    const g = state.groups[name];
    const jobId = g.deploymentGroup ? g.deploymentGroup.jobId || "" : "";
    const count = g.taskCount || 0;
    const done = g.status === "DONE" ? count : (g.taskIndex || 0);
    const bar = el("progress", { max: String(Math.max(count, 1)), value: String(done) });
    const stop = el("button", { class: "danger", onclick: () => act(`stop the rollout of group ${name}?`, "POST", "/deployment-group/" + enc(name) + "/stop", undefined, (d) => d.groups.add(name)) }, "stop rollout");
    body.append(el("tr", { "data-group": name },
      el("td", {}, name),
      el("td", { class: "id", title: jobId }, shortId(jobId)),
      el("td", {}, badge(g.status || "")),
      el("td", {}, bar, ` ${done}/${count}`, g.error ? el("div", { class: "error" }, g.error) : null),
      el("td", {}, g.status === "ROLLING_OUT" ? stop : null)));
  }
}

// taskTouched marks what a task action changes, to refresh it without waiting for events.
function taskTouched(id, host) { return (d) => { d.jobs.add(id); d.hosts.add(host); }; }

function renderJobs() {
  const box = $("jobs");
  const ids = matchingJobs();
  const shown = ids.slice(0, view.jobLimit);
  box.replaceChildren();
  for (const id of shown) {
    const st = state.statuses[id];
    const job = state.jobs[id] || (st && st.job) || {};
    const rows = [];
    for (const host of Object.keys((st && st.deployments) || {}).sort()) {
      const dep = st.deployments[host];
      const ts = (st.taskStatuses || {})[host] || {};
      const path = "/hosts/" + enc(host) + "/jobs/" + enc(id);
      rows.push(el("tr", { class: "task", "data-job": id, "data-host": host },
        el("td", {}, host),
        el("td", { class: "goal" }, dep.goal),
        el("td", {}, el("span", { class: "badge state " + (ts.state || "") }, ts.state || "—")),
        el("td", {}, ts.containerId ? ts.containerId.slice(0, 12) : ""),
        el("td", {},
          dep.goal !== "START" ? el("button", { class: "start", onclick: () => act("", "PATCH", path, { goal: "START" }, taskTouched(id, host)) }, "start") : null,
          dep.goal === "START" ? el("button", { class: "danger stop", onclick: () => act(`stop ${id} on ${host}?`, "PATCH", path, { goal: "STOP" }, taskTouched(id, host)) }, "stop") : null,
          el("button", { class: "danger undeploy", onclick: () => act(`undeploy ${id} from ${host}?`, "DELETE", path, undefined, taskTouched(id, host)) }, "undeploy"))));
    }
    const hist = ((state.history[id]) || []).slice(-5).map((e) =>
      el("li", {}, new Date(e.timestamp).toLocaleTimeString() + " " + e.host + " " + e.status.state));
    let detail;
    if (!st) detail = el("p", { class: "history" }, "loading…");
    else if (rows.length) detail = el("table", {}, el("thead", {}, el("tr", {}, ...["host", "goal", "state", "container", ""].map((h) => el("th", {}, h)))), el("tbody", {}, ...rows));
    else detail = el("p", { class: "history" }, "not deployed");
    box.append(el("div", { class: "job", "data-job": id },
      el("h3", {}, id),
      el("div", {}, job.image || "", " ", ...(job.command || []).map((c) => el("code", {}, c + " "))),
      detail,
      hist.length ? el("ol", { class: "history" }, ...hist) : null));
  }
  renderMore("jobs", shown.length, ids.length, Object.keys(state.jobs).length);
}

function renderForms() {
  fillSelect($("deploy-job"), Object.keys(state.jobs).sort());
  fillSelect($("deploy-host"), Object.keys(state.hosts).sort());
}

// fillSelect rebuilds a select's options only when the list changed: with thousands of
// hosts, doing it on every render would make each render slow.
const optionLists = new WeakMap();
function fillSelect(sel, values) {
  const list = values.join("\n");
  if (optionLists.get(sel) === list) return;
  optionLists.set(sel, list);
  const keep = sel.value;
  sel.replaceChildren(...values.map((v) => el("option", { value: v }, v)));
  if (values.includes(keep)) sel.value = keep;
}

// ---- actions ----

// act runs one API call, after the user confirms when question is not empty; touched marks
// what the call changes, refreshed at once for masters whose event stream is down.
async function act(question, method, path, body, touched) {
  if (question && !confirm(question)) return;
  try {
    showError("");
    await api(method, path, body);
  } catch (e) {
    if (!(e instanceof AuthNeeded)) showError(e.message);
  }
  if (touched) touched(dirty);
  kick();
}

$("deploy-form").addEventListener("submit", (ev) => {
  ev.preventDefault();
  const job = $("deploy-job").value, host = $("deploy-host").value;
  act("", "PUT", "/hosts/" + enc(host) + "/jobs/" + enc(job), { goal: "START" }, taskTouched(job, host));
});

$("rolling-form").addEventListener("submit", (ev) => {
  ev.preventDefault();
  const group = $("ru-group").value.trim(), job = $("ru-job").value.trim();
  act(`roll group ${group} out to ${job}? Its hosts will be redeployed.`, "POST",
    "/deployment-group/" + enc(group) + "/rolling-update", { job }, (d) => d.groups.add(group));
});

// Typing in the filter, or asking for more, shows other rows at once; only the details of
// newly shown jobs are fetched.
$("filter").addEventListener("input", () => {
  view.filter = $("filter").value;
  view.hostLimit = PAGE; view.jobLimit = PAGE;
  render(); kick();
});
$("hosts-more").addEventListener("click", () => { view.hostLimit += PAGE; render(); });
$("jobs-more").addEventListener("click", () => { view.jobLimit += PAGE; render(); kick(); });

// ---- live updates ----
//
// Events only mark what they touch as dirty. One refresh at a time then fetches all of it,
// 100 ms after the first mark: a storm of events costs a few requests per refresh (one for
// all touched hosts, one for the touched jobs shown), not requests per event. A job that is
// not shown is only forgotten, to be fetched when it is.

function newDirty() {
  return { all: false, groupList: false, hosts: new Set(), jobs: new Set(), groups: new Set(), members: new Map() };
}
let dirty = newDirty();
let timer = null, refreshing = false, again = false;

function kick(delay) {
  if (refreshing) { again = true; return; }
  if (!timer) timer = setTimeout(refresh, delay === undefined ? 100 : delay);
}

async function refresh() {
  timer = null; refreshing = true;
  const d = dirty;
  dirty = newDirty();
  let retry = false;
  try {
    await apply(d);
    render();
    if (d.all) showError("");
  } catch (e) {
    if (!(e instanceof AuthNeeded)) {
      showError(e.message);
      dirty.all = retry = true; // what this refresh lost is fetched again
    }
  }
  refreshing = false;
  if (retry) setTimeout(() => kick(0), 2000);
  else if (again) { again = false; kick(); }
}

async function apply(d) {
  if (d.all) {
    await Promise.all([loadHosts(), loadJobs(), loadGroups()]);
  } else {
    for (const [id, created] of d.members) {
      if (!created) forgetJob(id);
      else if (!(id in state.jobs)) state.jobs[id] = null; // its definition comes with its details
    }
    for (const id of d.jobs) { delete state.statuses[id]; delete state.history[id]; }
    const work = [];
    if (d.hosts.size) work.push(loadHostStatuses([...d.hosts]));
    if (d.groupList) work.push(loadGroups());
    else for (const g of d.groups) work.push(loadGroup(g));
    await Promise.all(work);
  }
  // The jobs shown without details: touched just now, newly shown, or just loaded.
  await loadJobDetails(shownJobs().filter((id) => !state.statuses[id]));
}

// LOG_LINES is how many events the log keeps.
const LOG_LINES = 200;
let logLines = [], logTimer = null, eventsSeen = 0;

// logEvent queues an event's line for the log, written at most every 100 ms: scrolling the
// log makes the browser lay the page out, which once per event made a storm of thousands
// of events take the page tens of seconds to get through.
function logEvent(ev) {
  eventsSeen++;
  logLines.push(`${ev.type} ${ev.host || ""} ${ev.jobId || ""} ${ev.group || ""} ${ev.payload && ev.payload.state ? ev.payload.state : ""}`);
  if (logLines.length > LOG_LINES) logLines = logLines.slice(-LOG_LINES);
  if (logTimer) return;
  logTimer = setTimeout(() => {
    logTimer = null;
    const log = $("events");
    log.append(...logLines.map((line) => el("li", {}, line)));
    logLines = [];
    while (log.children.length > LOG_LINES) log.firstChild.remove();
    log.scrollTop = log.scrollHeight;
    $("event-count").textContent = `${eventsSeen} since the page loaded`;
  }, 100);
}

function onEvent(ev) {
  logEvent(ev);
  if (ev.type === "JOB_CREATED") dirty.members.set(ev.jobId, true);
  if (ev.type === "JOB_REMOVED") dirty.members.set(ev.jobId, false);
  if (ev.jobId) dirty.jobs.add(ev.jobId);
  if (ev.host) dirty.hosts.add(ev.host);
  if (ev.group) dirty.groups.add(ev.group);
  if (ev.type === "GROUP_CREATED" || ev.type === "GROUP_REMOVED") dirty.groupList = true;
  if (ev.type === "STREAM_RESET" || ev.type === "STREAM_COMPACTED") dirty.all = true;
  kick();
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
      if (resp.status === 410) { rev = 0; idx = -1; dirty.all = true; kick(); continue; }
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

let started = false;
function start() {
  // Follow first: whatever changes while the lists load is then seen as an event, and
  // applied after them (one refresh at a time).
  if (!started) { started = true; follow(); }
  dirty.all = true;
  kick(0);
  whoami();
}

// whoami shows who the master takes this tab for, and greys out the actions a reader may
// not take (they stay clickable: the API's refusal, shown on the page, is the authority).
async function whoami() {
  try {
    const me = await api("GET", "/auth/whoami");
    $("who").textContent = me.authenticated ? `${me.user} (${me.role})` : "";
    document.body.dataset.role = me.role;
    for (const b of document.querySelectorAll("#deploy-button, #rolling-form button")) {
      b.title = me.role === "reader" ? `${me.user} (reader) may not: it needs the deployer role` : "";
    }
  } catch (e) {
    if (!(e instanceof AuthNeeded)) showError(e.message);
  }
}

if (sessionStorage.getItem(TOKEN_KEY)) $("logout").hidden = false;
start();
