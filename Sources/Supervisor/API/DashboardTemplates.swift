/// The dashboard's templates (mustache) and script, compiled in so the daemon needs no files beside it.
enum DashboardTemplates {
    static var all: [(String, String)] { [("style", style), ("index", index), ("job", job), ("login", login), ("row", row)] }

    static let style = #"""
    <style>
    body{font:14px/1.4 system-ui,sans-serif;margin:0;background:#f6f7f9;color:#1c1e21}
    header{background:#1f2937;color:#fff;padding:10px 20px;display:flex;gap:16px;align-items:center}
    header a{color:#fff;text-decoration:none;font-weight:600}
    main{padding:16px 20px;max-width:1200px}
    table{border-collapse:collapse;width:100%;background:#fff}
    th,td{padding:6px 8px;border-bottom:1px solid #e5e7eb;text-align:left;vertical-align:middle}
    .bar{width:120px;height:10px;background:#e5e7eb;border-radius:5px;overflow:hidden;display:inline-block}
    .bar>i{display:block;height:100%;background:#2563eb}
    .state{font-weight:600}.state.done{color:#15803d}.state.failed,.state.rejected{color:#b91c1c}.state.running{color:#2563eb}
    .thumb{width:64px;height:36px;object-fit:cover;background:#ddd}
    form.submit{background:#fff;padding:12px;margin-bottom:16px;border:1px solid #e5e7eb}
    textarea{width:100%;height:120px;font-family:monospace}
    .errors{color:#b91c1c;white-space:pre-wrap}
    .reason{display:inline-block;max-width:36em;overflow:hidden;text-overflow:ellipsis;white-space:nowrap;vertical-align:bottom}
    .warn{color:#b45309}
    video{max-width:100%;background:#000}
    </style>
    """#

    static let row = #"""
    <tr data-id="{{id}}" data-created="{{created}}" data-updated="{{updated}}">
    <td>{{#done}}<img class="thumb" src="/v1/jobs/{{id}}/poster" alt="" loading="lazy">{{/done}}</td>
    <td><a href="/jobs/{{id}}">{{name}}</a><br><small>{{id}}</small>{{#queueNote}}<br><small class="queue">{{queueNote}}</small>{{/queueNote}}{{#reason}}<br><small class="errors reason" title="{{message}}">{{code}}: {{message}}</small>{{/reason}}{{#warningCount}}<br><small class="warn">{{warningCount}}</small>{{/warningCount}}</td>
    <td class="state {{state}}">{{state}}</td><td class="stage">{{stage}}</td>
    <td><span class="bar"><i style="width:{{percent}}%"></i></span> <span class="pct">{{percent}}%</span></td>
    <td class="duration">{{length}}</td><td class="age">{{age}}</td>
    <td>{{#cancellable}}<button data-action="cancel">Cancel</button>{{/cancellable}}{{#retryable}}<button data-action="retry">Retry</button>{{/retryable}}</td>
    </tr>
    """#

    static let index = #"""
    <!doctype html><html lang="en"><head><meta charset="utf-8"><title>ProStudio</title>{{> style}}</head>
    <body><header><a href="/">ProStudio</a><span>jobs</span></header><main>
    <form class="submit" id="submit" enctype="multipart/form-data">
    <strong>New job</strong> <label>Name <input name="name" id="name" placeholder="from the manifest file"></label><br>
    <label>Manifest file <input type="file" name="manifest" id="manifest-file"></label> or paste it:<br>
    <textarea name="manifest-text" id="manifest-text" placeholder="scenes:&#10;  - narration: Hello."></textarea><br>
    <label>Assets <input type="file" name="assets" id="assets" multiple></label>
    <button type="submit" id="submit-button">Submit</button>
    <div class="errors" id="errors"></div></form>
    <p id="queue" data-paused="{{queue.paused}}">Queue: {{#queue.paused}}<strong class="warn">paused</strong>{{#queue.by}} by {{queue.by}}{{/queue.by}}{{#queue.since}} since {{queue.since}}{{/queue.since}}: no job starts
    <button data-queue="resume">Resume</button>{{/queue.paused}}{{^queue.paused}}running <button data-queue="pause">Pause</button>{{/queue.paused}}
    {{#queue.scheduled}} · {{queue.scheduled}} waiting for their start time{{/queue.scheduled}}</p>
    <table id="jobs"><thead><tr><th></th><th>Name</th><th>State</th><th>Stage</th><th>Progress</th><th title="The video's length">Duration</th><th>Age</th><th></th></tr></thead>
    <tbody>{{#jobs}}{{> row}}{{/jobs}}</tbody></table>
    {{#empty}}<p id="empty">No jobs yet.</p>{{/empty}}
    </main><script src="/dashboard.js"></script></body></html>
    """#

    static let job = #"""
    <!doctype html><html lang="en"><head><meta charset="utf-8"><title>{{name}} · ProStudio</title>{{> style}}</head>
    <body><header><a href="/">ProStudio</a><span>{{name}}</span></header><main id="job" data-id="{{id}}" data-state="{{state}}">
    <h1>{{name}}</h1>
    <p>State: <span class="state {{state}}" id="state">{{state}}</span> · <span id="stage">{{stage}}</span> ·
    <span class="bar"><i id="bar" style="width:{{percent}}%"></i></span> <span id="pct">{{percent}}%</span></p>
    {{#cancellable}}<button data-action="cancel" data-id="{{id}}">Cancel</button>{{/cancellable}}
    {{#retryable}}<button data-action="retry" data-id="{{id}}">Retry</button>{{/retryable}}
    {{#queueNote}}<p>Queue: <span id="queue-note">{{queueNote}}</span></p>{{/queueNote}}
    {{#length}}<p>Length: <span id="length">{{length}}</span></p>{{/length}}
    {{#warningCount}}<ul class="warn" id="warnings">{{#warnings}}<li>warning: {{text}}</li>{{/warnings}}</ul>{{/warningCount}}
    {{#error}}<p class="errors" id="error"><strong>{{code}}</strong>{{#field}} ({{field}}){{/field}}: {{message}}</p>{{/error}}
    {{#done}}<video id="player" controls preload="metadata" src="/v1/jobs/{{id}}/video" poster="/v1/jobs/{{id}}/poster">
    {{#hasCaptions}}<track kind="captions" src="/v1/jobs/{{id}}/webvtt" default>{{/hasCaptions}}</video>
    <p><a href="/v1/jobs/{{id}}/video">video</a> · <a href="/v1/jobs/{{id}}/captions">captions</a> · <a href="/v1/jobs/{{id}}/sidecar">sidecar</a></p>{{/done}}
    <h2>Stages</h2><table><thead><tr><th>Stage</th><th>Attempt</th><th>Engine</th><th>Outcome</th><th>Seconds</th><th>Cached</th><th>Peak memory</th></tr></thead><tbody>
    {{#stages}}<tr><td>{{stage}}</td><td>{{attempt}}</td><td>{{engine}}</td><td>{{outcome}}</td><td>{{seconds}}</td><td>{{#cached}}yes{{/cached}}</td><td>{{memory}}</td></tr>{{/stages}}
    </tbody></table></main><script src="/dashboard.js"></script></body></html>
    """#

    static let login = #"""
    <!doctype html><html lang="en"><head><meta charset="utf-8"><title>ProStudio · sign in</title>{{> style}}</head>
    <body><header><a href="/">ProStudio</a></header><main><form method="post" action="/login">
    <p>This dashboard needs the API token (the file named by <code>api.token_file</code>).</p>
    {{#failed}}<p class="errors">That token is not valid.</p>{{/failed}}
    <input type="password" name="token" autofocus> <button>Sign in</button></form></main></body></html>
    """#

    /// Plain JavaScript: the table follows `/v1/events`, a job page follows its own events and reloads when the job
    /// ends (to show the player), the form posts multipart to `/v1/jobs`, the buttons post cancel and retry.
    static let script = #"""
    "use strict";
    function esc(s) { return String(s == null ? "" : s).replace(/[&<>"']/g, c => ({"&":"&amp;","<":"&lt;",">":"&gt;","\"":"&quot;","'":"&#39;"}[c])); }
    function rowHTML(j) {
      const pct = Math.round(j.progress * 100), done = j.state === "done";
      const cancel = (j.state === "queued" || j.state === "running") ? '<button data-action="cancel">Cancel</button>' : "";
      const retry = (j.state === "failed" || j.state === "cancelled") ? '<button data-action="retry">Retry</button>' : "";
      const note = (j.state === "queued") ? [j.priority ? "priority " + j.priority : "", j.not_before ? "not before " + j.not_before : ""].filter(x => x).join(" · ") : "";
      const queue = note ? '<br><small class="queue">' + esc(note) + '</small>' : "";
      const reason = (!done && j.error) ? '<br><small class="errors reason" title="' + esc(j.error.message) + '">' + esc(j.error.code) + ': ' + esc(j.error.message) + '</small>' : "";
      return '<td>' + (done ? '<img class="thumb" src="/v1/jobs/' + esc(j.id) + '/poster" alt="">' : "") + '</td>' +
        '<td><a href="/jobs/' + esc(j.id) + '">' + esc(j.name) + '</a><br><small>' + esc(j.id) + '</small>' + queue + reason + '</td>' +
        '<td class="state ' + esc(j.state) + '">' + esc(j.state) + '</td><td class="stage">' + esc(j.stage || "") + '</td>' +
        '<td><span class="bar"><i style="width:' + pct + '%"></i></span> <span class="pct">' + pct + '%</span></td>' +
        '<td class="duration"></td><td class="age">now</td><td>' + cancel + retry + '</td>';
    }
    // A job that just ended done: its video's length and warnings are in its sidecar (GET /v1/jobs/ID).
    function fillFacts(tr, id) {
      fetch("/v1/jobs/" + encodeURIComponent(id)).then(r => r.ok ? r.json() : null).then(s => {
        if (!s) return;
        if (typeof s.duration_s === "number") tr.querySelector(".duration").textContent = s.duration_s.toFixed(1) + " s";
        const n = (s.warnings || []).length;
        if (n) { const w = document.createElement("small"); w.className = "warn"; w.textContent = n + (n === 1 ? " warning" : " warnings"); tr.children[1].append(document.createElement("br"), w); }
      }).catch(() => {});
    }
    async function act(id, action) {
      const r = await fetch("/v1/jobs/" + encodeURIComponent(id) + "/" + action, {method: "POST"});
      if (!r.ok) { const e = await r.json().catch(() => ({})); alert((e.error && e.error.message) || r.statusText); }
    }
    document.addEventListener("click", async ev => {
      const q = ev.target.closest("button[data-queue]");
      if (q) {
        ev.preventDefault();
        const r = await fetch("/v1/queue/" + q.dataset.queue, {method: "POST"});
        if (r.ok) location.reload(); else alert(r.statusText);
        return;
      }
      const b = ev.target.closest("button[data-action]"); if (!b) return;
      const id = b.dataset.id || b.closest("tr[data-id]").dataset.id;
      ev.preventDefault(); act(id, b.dataset.action);
    });
    const table = document.querySelector("#jobs tbody");
    if (table) {
      const es = new EventSource("/v1/events");
      es.addEventListener("job", ev => {
        const j = JSON.parse(ev.data);
        let tr = table.querySelector('tr[data-id="' + CSS.escape(j.id) + '"]');
        if (j.state === "deleted") { if (tr) tr.remove(); return; }
        if (!tr) { tr = document.createElement("tr"); tr.dataset.id = j.id; table.prepend(tr); const e = document.getElementById("empty"); if (e) e.remove(); }
        tr.innerHTML = rowHTML(j); tr.dataset.state = j.state; tr.dataset.created = j.created_at; tr.dataset.updated = j.updated_at;
        if (j.state === "done") fillFacts(tr, j.id);
      });
      const form = document.getElementById("submit");
      form.addEventListener("submit", async ev => {
        ev.preventDefault();
        const errors = document.getElementById("errors"); errors.textContent = "";
        const fd = new FormData(), file = document.getElementById("manifest-file").files[0], text = document.getElementById("manifest-text").value;
        const name = document.getElementById("name").value.trim();
        if (name) fd.append("name", name);
        if (file) fd.append("manifest", file, file.name);
        else if (text.trim()) fd.append("manifest", new Blob([text], {type: text.trim().startsWith("{") ? "application/json" : "application/yaml"}), "manifest.yaml");
        else { errors.textContent = "Choose a manifest file or paste one."; return; }
        for (const f of document.getElementById("assets").files) fd.append("assets", f, f.name);
        const r = await fetch("/v1/jobs", {method: "POST", body: fd});
        const body = await r.json().catch(() => ({}));
        if (r.status === 202) { form.reset(); errors.style.color = "#15803d"; errors.textContent = "Queued " + body.name + " (" + body.id + ")"; errors.dataset.job = body.id; return; }
        errors.style.color = "";
        const lines = [(body.error && body.error.message) || r.statusText];
        for (const p of body.errors || []) lines.push((p.line ? "line " + p.line + ": " : "") + (p.field ? p.field + ": " : "") + p.message);
        errors.textContent = lines.join("\n");
      });
    }
    const page = document.getElementById("job");
    if (page && !["done", "failed", "cancelled", "rejected", "deleted"].includes(page.dataset.state)) {
      const es = new EventSource("/v1/jobs/" + encodeURIComponent(page.dataset.id) + "/events");
      es.addEventListener("state", ev => {
        const s = JSON.parse(ev.data), pct = Math.round(s.progress * 100);
        document.getElementById("state").textContent = s.state; document.getElementById("state").className = "state " + s.state;
        document.getElementById("stage").textContent = s.stage || ""; document.getElementById("bar").style.width = pct + "%";
        document.getElementById("pct").textContent = pct + "%";
        if (["done", "failed", "cancelled", "rejected"].includes(s.state)) { es.close(); location.reload(); }
      });
    }
    """#
}
