// mlrc's web UI: the runs list, a run (live through server-sent events) and
// the comparison of two runs. Everything is built with DOM calls and text
// nodes: text from runs (the model's words, experiment output) is never
// parsed as HTML.
"use strict";

const CSRF = document.querySelector('meta[name="csrf"]').content;
const SVGNS = "http://www.w3.org/2000/svg";

// el builds an element: attrs are attributes (on* are not allowed), the
// children nodes or strings.
function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "class") e.className = v;
    else e.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return e;
}

function svg(tag, attrs, ...children) {
  const e = document.createElementNS(SVGNS, tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, String(v));
  for (const c of children.flat()) {
    if (c === null || c === undefined) continue;
    e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return e;
}

async function api(path) {
  const r = await fetch(path, { headers: { Accept: "application/json" } });
  const body = await r.json().catch(() => ({ error: r.statusText }));
  if (!r.ok) throw new Error(body.error || r.statusText);
  return body;
}

async function post(path, data) {
  const r = await fetch(path, {
    method: "POST",
    headers: { "Content-Type": "application/json", "X-MLRC-CSRF": CSRF },
    body: JSON.stringify(data),
  });
  const body = await r.json().catch(() => ({ error: r.statusText }));
  return { ok: r.ok, status: r.status, body };
}

function num(x) {
  if (x === null || x === undefined || Number.isNaN(x)) return "–";
  return Number(x).toPrecision(6).replace(/\.?0+$/, "").replace(/\.?0+e/, "e");
}

function cost(c) {
  if (!c) return "–";
  let s = "$" + Number(c.usd || 0).toFixed(4);
  if (c.unknown) s += " (+" + c.unknown + " unpriced)";
  return s;
}

function when(t) {
  if (!t) return "";
  const d = new Date(t);
  return d.toLocaleString();
}

function badge(status) {
  return el("span", { class: "badge " + status, "data-status": status }, status);
}

function section(id, title, ...body) {
  return el("section", { id }, el("h2", {}, title), ...body);
}

function pre(text, cls) {
  return el("pre", { class: cls || "" }, text);
}

function table(head, rows, attrs) {
  return el("table", attrs || {},
    el("thead", {}, el("tr", {}, head.map((h) => el("th", {}, h)))),
    el("tbody", {}, rows));
}

function fileURL(run, path) {
  return "/api/runs/" + encodeURIComponent(run) + "/files/" + path.split("/").map(encodeURIComponent).join("/");
}

// ---- the metric chart: inline SVG, no library ----

// chart draws lines (each {name, cls, points: [[x, y], ...]}) and
// horizontal rules (each {name, cls, y}).
function chart(lines, rules, label) {
  const W = 640, H = 240, L = 64, R = 12, T = 12, B = 32;
  const xs = [], ys = [];
  for (const l of lines) for (const [x, y] of l.points) if (y !== null && Number.isFinite(y)) { xs.push(x); ys.push(y); }
  for (const r of rules) if (Number.isFinite(r.y)) ys.push(r.y);
  const box = svg("svg", { viewBox: `0 0 ${W} ${H}`, class: "chart", role: "img", "aria-label": label || "metric per step" });
  if (ys.length === 0) {
    box.append(svg("text", { x: W / 2, y: H / 2, "text-anchor": "middle", class: "axis" }, "no metric yet"));
    return box;
  }
  let x0 = Math.min(0, ...xs), x1 = Math.max(1, ...xs);
  let y0 = Math.min(...ys), y1 = Math.max(...ys);
  if (y0 === y1) { y0 -= 0.5 * (Math.abs(y0) || 1) * 0.02; y1 += 0.5 * (Math.abs(y1) || 1) * 0.02; }
  const pad = (y1 - y0) * 0.08; y0 -= pad; y1 += pad;
  const px = (x) => L + (x - x0) / (x1 - x0) * (W - L - R);
  const py = (y) => T + (1 - (y - y0) / (y1 - y0)) * (H - T - B);
  box.append(svg("line", { x1: L, y1: H - B, x2: W - R, y2: H - B, class: "axis-line" }));
  box.append(svg("line", { x1: L, y1: T, x2: L, y2: H - B, class: "axis-line" }));
  for (const y of [y0 + pad, (y0 + y1) / 2, y1 - pad]) {
    box.append(svg("text", { x: L - 6, y: py(y) + 4, "text-anchor": "end", class: "axis" }, num(y)));
  }
  box.append(svg("text", { x: W - R, y: H - 8, "text-anchor": "end", class: "axis" }, "step " + x1));
  box.append(svg("text", { x: L, y: H - 8, class: "axis" }, "step " + x0));
  for (const r of rules) {
    if (!Number.isFinite(r.y)) continue;
    box.append(svg("line", { x1: L, y1: py(r.y), x2: W - R, y2: py(r.y), class: "rule " + r.cls }));
  }
  for (const l of lines) {
    const pts = l.points.filter(([, y]) => y !== null && Number.isFinite(y));
    if (pts.length === 0) continue;
    box.append(svg("polyline", { points: pts.map(([x, y]) => px(x) + "," + py(y)).join(" "), class: "line " + l.cls }));
    for (const [x, y] of pts) box.append(svg("circle", { cx: px(x), cy: py(y), r: 3, class: "dot " + l.cls }, svg("title", {}, `${l.name} at step ${x}: ${num(y)}`)));
  }
  return box;
}

function legend(items) {
  return el("div", { class: "legend" }, items.map(([cls, name]) => el("span", { class: "key " + cls }, name)));
}

// ---- the runs list ----

async function runsPage(main) {
  const params = new URLSearchParams(location.search);
  const taskSel = el("select", { id: "filter-task" }, el("option", { value: "" }, "all tasks"));
  const statusSel = el("select", { id: "filter-status" }, el("option", { value: "" }, "any status"),
    ["running", "interrupted", "done", "failed", "stopped"].map((s) => el("option", { value: s }, s)));
  statusSel.value = params.get("status") || "";
  const compareBtn = el("button", { type: "button", id: "compare", disabled: true }, "compare the two selected");
  const body = el("div", {});
  main.replaceChildren(el("h1", {}, "Runs"),
    el("div", { class: "filters" }, el("label", {}, "task ", taskSel), el("label", {}, "status ", statusSel), compareBtn),
    body);
  const picked = new Set();
  compareBtn.addEventListener("click", () => {
    const [a, b] = [...picked];
    location.href = "/compare?a=" + encodeURIComponent(a) + "&b=" + encodeURIComponent(b);
  });
  let tasks = new Set();
  async function load() {
    let runs;
    try {
      runs = await api("/api/runs");
    } catch (e) {
      body.replaceChildren(el("p", { class: "error" }, e.message));
      return;
    }
    for (const r of runs) if (r.task && !tasks.has(r.task)) {
      tasks.add(r.task);
      taskSel.append(el("option", { value: r.task }, r.task));
    }
    if (params.get("task") && taskSel.value === "") taskSel.value = params.get("task");
    const shown = runs.filter((r) => (!taskSel.value || r.task === taskSel.value) && (!statusSel.value || r.status === statusSel.value));
    if (shown.length === 0) {
      body.replaceChildren(el("p", { class: "muted" }, runs.length ? "no run matches" : "no runs in this store yet"));
      return;
    }
    const rows = shown.map((r) => {
      const box = el("input", { type: "checkbox", "aria-label": "select " + r.id, checked: picked.has(r.id) });
      box.addEventListener("change", () => {
        if (box.checked) picked.add(r.id); else picked.delete(r.id);
        compareBtn.disabled = picked.size !== 2;
      });
      return el("tr", { "data-run": r.id },
        el("td", {}, box),
        el("td", {}, el("a", { href: "/runs/" + encodeURIComponent(r.id) }, r.id)),
        el("td", {}, r.task || "–"),
        el("td", {}, r.kind, r.rehearsal ? el("span", { class: "tag" }, "rehearsal") : null),
        el("td", {}, badge(r.status), r.open_gates ? el("span", { class: "tag gate-tag" }, "gate open") : null),
        el("td", {}, r.verdict ? el("span", { class: "verdict " + (r.verdict === "success" ? "ok" : "no") }, r.verdict) : "–"),
        el("td", { class: "num" }, r.baseline !== undefined ? num(r.baseline) + " → " + num(r.best) : "–"),
        el("td", { class: "num" }, cost(r.cost)),
        el("td", {}, when(r.started)));
    });
    body.replaceChildren(table(["", "run", "task", "kind", "status", "verdict", "baseline → best", "cost", "started"], rows, { id: "runs" }));
  }
  taskSel.addEventListener("change", load);
  statusSel.addEventListener("change", load);
  await load();
  setInterval(load, 3000);
}

// ---- one run ----

function gateForm(runID, g, onDone) {
  const msg = el("p", { class: "gate-msg", role: "status" });
  const text = el("textarea", { rows: 2, class: "gate-text", placeholder: g.kind === "pick_idea" ? "feedback for new ideas" : "guidance for the agent (optional)" });
  async function answer(a) {
    for (const b of form.querySelectorAll("button")) b.disabled = true;
    const r = await post("/api/runs/" + encodeURIComponent(runID) + "/gates/" + g.seq, { answer: a });
    if (r.ok) msg.textContent = "answered: the run goes on";
    else msg.textContent = r.body.error || "the answer was refused";
    msg.className = "gate-msg " + (r.ok ? "ok" : "error");
    if (!r.ok && r.status !== 409) for (const b of form.querySelectorAll("button")) b.disabled = false;
    onDone();
  }
  const form = el("div", { class: "gate open", "data-gate": g.seq, "data-kind": g.kind });
  form.append(el("h3", {}, "gate " + g.seq + " · " + g.kind.replace("_", " ")), pre(g.question, "question"));
  if (g.kind === "pick_idea") {
    const opts = g.options || [];
    const list = el("ol", { class: "pick" });
    opts.forEach((o, i) => {
      const b = el("button", { type: "button", class: "pick-btn", "data-pick": i }, "pick");
      b.addEventListener("click", () => answer({ pick: i }));
      list.append(el("li", {}, b, " ", el("strong", {}, o.title || "untitled"), " · score " + num(o.score)));
    });
    const regen = el("button", { type: "button", "data-answer": "regenerate" }, "new ideas with this feedback");
    regen.addEventListener("click", () => answer({ regenerate: true, feedback: text.value }));
    form.append(list, text, regen);
  } else {
    const go = el("button", { type: "button", "data-answer": "go" }, "go on");
    const stop = el("button", { type: "button", "data-answer": "stop", class: "danger" }, "stop");
    go.addEventListener("click", () => answer(text.value.trim() ? { guidance: text.value.trim() } : {}));
    stop.addEventListener("click", () => answer({ stop: true }));
    form.append(text, el("div", { class: "buttons" }, go, stop));
  }
  form.append(msg);
  return form;
}

function describeAnswer(g) {
  if (g.status === "cancelled") return "cancelled (" + g.answered_by + ")";
  const a = g.answer || {};
  if (g.kind === "pick_idea") return a.regenerate ? "new ideas: " + a.feedback : "idea " + ((a.pick || 0) + 1);
  if (a.stop) return "stop";
  if (a.guidance) return "guidance: " + a.guidance;
  return "go on";
}

function stepNode(s, open) {
  const tools = (s.actions || []).map((a) => a.tool).join(", ");
  const d = el("details", { class: "step " + s.status, "data-seq": s.seq, open: open });
  d.append(el("summary", {}, el("span", { class: "seq" }, "#" + s.seq), " ", s.phase ? s.phase + " · " : "", s.kind,
    tools ? " · " + tools : "", " ", badge(s.status)));
  if (s.guidance) d.append(el("p", { class: "guidance" }, "guidance: " + s.guidance));
  if (s.thought) d.append(el("p", { class: "thought" }, s.thought));
  for (const a of s.actions || []) {
    d.append(el("div", { class: "action" + (a.is_error ? " error" : "") },
      el("div", { class: "tool" }, a.tool, a.summary ? " — " + a.summary : ""),
      a.args && a.args !== "null" && a.args !== "{}" ? pre(a.args, "args") : null,
      pre(a.observation, "observation")));
  }
  if (s.input && Object.keys(s.input).length) d.append(el("div", { class: "tool" }, "input"), pre(JSON.stringify(s.input, null, 2)));
  if (s.output) d.append(el("div", { class: "tool" }, "output"), pre(JSON.stringify(s.output, null, 2)));
  return d;
}

// treeNodes merges the node events into nodes and marks the path to the
// best one.
function treeView(events, goal) {
  const nodes = new Map();
  for (const e of events) {
    const n = nodes.get(e.node) || {};
    nodes.set(e.node, Object.assign(n, e));
  }
  if (nodes.size === 0) return null;
  let best = null;
  for (const n of nodes.values()) {
    if (typeof n.metric !== "number") continue;
    if (!best || (goal === "minimize" ? n.metric < best.metric : n.metric > best.metric)) best = n;
  }
  const onPath = new Set();
  for (let n = best; n; n = nodes.get(n.parent)) { if (onPath.has(n.node)) break; onPath.add(n.node); }
  const kids = new Map();
  for (const n of nodes.values()) {
    const p = nodes.has(n.parent) ? n.parent : 0;
    if (!kids.has(p)) kids.set(p, []);
    kids.get(p).push(n);
  }
  function list(parent) {
    const ns = kids.get(parent) || [];
    if (ns.length === 0) return null;
    return el("ul", {}, ns.map((n) => el("li", { class: onPath.has(n.node) ? "best-path" : "", "data-node": n.node },
      el("span", { class: "node" }, "node " + n.node, " · " + (n.operator || ""), " · ",
        typeof n.metric === "number" ? num(n.metric) : (n.error ? "failed" : n.status || "")),
      n.node === parent ? null : list(n.node))));
  }
  return el("div", { class: "tree" }, list(0), legend([["best-path", "path to the best node"]]));
}

// nodeChart draws a tree search's node metrics in node order, with the
// best so far.
function nodeChart(events, r) {
  const nodes = new Map();
  for (const e of events) nodes.set(e.node, Object.assign(nodes.get(e.node) || {}, e));
  const done = [...nodes.values()].filter((n) => typeof n.metric === "number").sort((a, b) => a.node - b.node);
  if (done.length === 0) return null;
  let best = null;
  const metric = [], bestLine = [];
  for (const n of done) {
    if (best === null || (r.goal === "minimize" ? n.metric < best : n.metric > best)) best = n.metric;
    metric.push([n.node, n.metric]);
    bestLine.push([n.node, best]);
  }
  return section("metric", "Metric per node" + (r.metric ? " (" + r.metric + ")" : ""),
    chart([{ name: "metric", cls: "metric", points: metric }, { name: "best so far", cls: "best", points: bestLine }],
      r.baseline !== undefined ? [{ name: "baseline", cls: "baseline", y: r.baseline }] : [], "metric per node"),
    legend([["metric", "this node"], ["best", "best so far"], ["baseline", "baseline"]]));
}

function ideasView(ideas) {
  if (!ideas || !ideas.ideas || ideas.ideas.length === 0) return null;
  return el("div", {}, ideas.ideas.map((i) => {
    const rev = i.review ? Object.entries(i.review).filter(([, v]) => v && typeof v.score === "number")
      .map(([k, v]) => k + " " + v.score).join(" · ") : "";
    const closest = i.novelty && i.novelty.closest ? i.novelty.closest : [];
    return el("details", { class: "idea", open: i.rank === 1 },
      el("summary", {}, "#" + i.rank + " ", el("strong", {}, i.title), " · score " + num(i.score),
        i.novelty ? " · novelty " + num(i.novelty.score) : "", i.uncited ? el("span", { class: "tag" }, "uncited") : null),
      el("p", {}, el("em", {}, "hypothesis: "), i.hypothesis || ""),
      el("p", {}, el("em", {}, "method: "), i.method || ""),
      rev ? el("p", { class: "review" }, "review: " + rev + (i.review.summary ? " — " + i.review.summary : "")) : null,
      i.novelty ? null : el("p", { class: "muted" }, "novelty: not checked (no literature index for this run)"),
      closest.length ? el("div", {}, el("div", { class: "tool" }, "closest prior work (novelty evidence)"),
        el("ul", {}, closest.map((c) => el("li", {}, (c.work && c.work.title) || "?", " · similarity " + num(c.similarity),
          c.work && c.work.id ? el("span", { class: "muted" }, " (" + c.work.id + ")") : null)))) : null,
      i.builds_on && i.builds_on.length ? el("p", { class: "muted" }, "builds on: " + i.builds_on.map((b) => b.title || b.id || JSON.stringify(b)).join("; ")) : null);
  }));
}

function verdictView(v, run, files) {
  if (!v) return null;
  const arm = (a) => a ? [num(a.mean), num(a.sd), "[" + num(a.ci_low) + ", " + num(a.ci_high) + "]", (a.values || []).map(num).join(", ")] : [];
  const plots = files.filter((f) => f.kind === "image");
  return el("div", {},
    el("p", { class: "verdict " + (v.success ? "ok" : "no") }, (v.success ? "success: " : "no success: ") + (v.summary || "")),
    table(["arm", "mean", "sd", "95% CI", "values"], [
      el("tr", {}, el("td", {}, "baseline"), arm(v.baseline).map((x) => el("td", { class: "num" }, x))),
      el("tr", {}, el("td", {}, "best"), arm(v.best).map((x) => el("td", { class: "num" }, x)))]),
    el("p", {}, "improvement " + num(v.improvement), v.relative_improvement !== undefined ? " (" + num(100 * v.relative_improvement) + "% of " + (v.relative_to || "") + ")" : "",
      " · p = " + num(v.p) + " (" + (v.decided_by || "") + ")"),
    el("ul", { class: "checks" }, (v.checks || []).map((c) => el("li", { class: c.passed ? "ok" : "no" }, (c.passed ? "✓ " : "✗ ") + c.name + ": " + c.detail))),
    plots.length ? el("div", { class: "plots" }, plots.map((f) => el("figure", {}, el("img", { src: fileURL(run, f.path), alt: f.path }), el("figcaption", {}, f.path)))) : null);
}

// reportFrame shows report.html in a sandboxed frame: no script, an
// opaque origin the page cannot reach into. data-loaded says it loaded.
function reportFrame(src) {
  const f = el("iframe", { src, sandbox: "", title: "report", class: "report" });
  f.addEventListener("load", () => { f.dataset.loaded = "1"; });
  return f;
}

function diffView(text) {
  const p = el("pre", { class: "diff" });
  for (const line of text.split("\n")) {
    const cls = line.startsWith("+") ? "add" : line.startsWith("-") ? "del" : line.startsWith("@@") ? "hunk" : "";
    p.append(el("span", { class: cls }, line + "\n"));
  }
  return p;
}

function seriesLines(series) {
  return {
    metric: series.map((s) => [s.Step, s.Metric === undefined ? null : s.Metric]),
    best: series.map((s) => [s.Step, s.Best === undefined ? null : s.Best]),
  };
}

async function runPage(main, id) {
  const state = { open: new Set(), keys: {}, events: [], lastSeq: 0, d: null };
  const parts = {};
  for (const name of ["head", "gates", "phases", "metric", "tree", "ideas", "plan", "steps", "validation", "report", "cost", "diff", "files", "events"]) {
    parts[name] = el("div", { id: "part-" + name });
  }
  main.replaceChildren(...Object.values(parts));
  const viewer = el("div", { id: "viewer" });

  // put renders a part again only when its data changed, so that what a
  // person is typing or has opened stays.
  function put(name, key, build) {
    const k = JSON.stringify(key);
    if (state.keys[name] === k) return;
    state.keys[name] = k;
    const node = build();
    parts[name].replaceChildren(...(node ? [node] : []));
  }

  function render(d) {
    const r = d.run;
    document.title = "mlrc · " + r.id + " · " + r.status;
    put("head", [r, d.total_usage, d.calls], () => el("div", {},
      el("h1", {}, r.id, " ", el("span", { id: "status" }, badge(r.status))),
      el("p", { class: "meta" }, [r.kind, r.task && "task " + r.task, "model " + r.model + (r.rehearsal ? " (rehearsal)" : ""),
        "started " + when(r.started), r.finished ? "finished " + when(r.finished) : null, r.pid ? "process " + r.pid : null]
        .filter(Boolean).join(" · ")),
      r.status === "interrupted" ? el("p", { class: "interrupted" }, "interrupted: the process working on this run is gone; continue it with ", el("code", {}, r.resume)) : null,
      r.error ? el("p", { class: "error" }, r.error) : null,
      el("p", { class: "meta" }, "calls " + d.calls + " (" + d.failed_calls + " failed) · tokens " + ((d.total_usage.input_tokens || 0) + (d.total_usage.output_tokens || 0)) + " · cost " + cost(r.cost),
        r.baseline !== undefined ? " · baseline " + num(r.baseline) + " → best " + num(r.best) : "")));

    const open = d.gates.filter((g) => g.status === "open");
    put("gates", [d.gates.map((g) => [g.seq, g.status]), r.status], () => {
      if (d.gates.length === 0) return null;
      const live = r.status === "running";
      return section("gates", "Human gates",
        open.length && !live ? el("p", { class: "interrupted" }, "no process is waiting at the open gate: the run is " + r.status) : null,
        live ? open.map((g) => gateForm(r.id, g, refresh)) : null,
        el("ul", { class: "gate-log" }, d.gates.filter((g) => g.status !== "open").map((g) =>
          el("li", { "data-gate": g.seq }, "gate " + g.seq + " · " + g.kind + ": " + describeAnswer(g) + (g.status === "answered" ? " (from the " + g.answered_by + ")" : "")))));
    });

    put("phases", d.phases, () => d.phases.length ? section("phases", "Phases",
      el("ol", { class: "phases" }, d.phases.map((p) => el("li", { "data-phase": p.name }, p.name, " ", badge(p.status))))) : null);

    put("metric", [d.series, d.nodes, r.baseline], () => {
      if (d.series.length === 0) return nodeChart(d.nodes, r);
      const l = seriesLines(d.series);
      const base = d.series.length ? d.series[d.series.length - 1].Baseline : r.baseline;
      return section("metric", "Metric per step" + (r.metric ? " (" + r.metric + ")" : ""),
        chart([{ name: "metric", cls: "metric", points: l.metric }, { name: "best so far", cls: "best", points: l.best }],
          [{ name: "baseline", cls: "baseline", y: base }]),
        legend([["metric", "this step's run"], ["best", "best so far"], ["baseline", "baseline"]]));
    });

    put("tree", d.nodes, () => {
      const t = treeView(d.nodes, r.goal);
      return t ? section("tree", "Tree search", t) : null;
    });
    put("ideas", d.ideas ? 1 : 0, () => {
      const v = ideasView(d.ideas);
      return v ? section("ideas", "Ideas", v) : null;
    });
    put("plan", d.plan, () => d.plan ? section("plan", "Plan", pre(d.plan)) : null);

    put("steps", d.steps.map((s) => [s.seq, s.status]), () => section("steps", "Steps (" + d.steps.length + ")",
      el("div", { class: "steps", "data-count": d.steps.length }, d.steps.map((s) => {
        const n = stepNode(s, state.open.has(s.seq));
        n.addEventListener("toggle", () => { if (n.open) state.open.add(s.seq); else state.open.delete(s.seq); });
        return n;
      }))));

    put("validation", [d.verdict, d.files.length], () => {
      const v = verdictView(d.verdict, r.id, d.files);
      return v ? section("validation", "Validation", v) : null;
    });
    put("report", d.report, () => d.report ? section("report", "Report",
      el("p", {}, el("a", { href: fileURL(r.id, "report.html"), target: "_blank", rel: "noopener" }, "open report.html")),
      reportFrame(fileURL(r.id, "report.html"))) : null);
    put("cost", d.usage, () => d.usage.length ? section("cost", "Tokens and cost per phase",
      table(["phase", "calls", "input tokens", "output tokens", "cost"], d.usage.map((u) => el("tr", {},
        el("td", {}, u.phase || "(no phase)"), el("td", { class: "num" }, u.calls),
        el("td", { class: "num" }, u.usage.input_tokens || 0), el("td", { class: "num" }, u.usage.output_tokens || 0),
        el("td", { class: "num" }, cost(u.cost)))))) : null);
    put("diff", d.diff, () => d.diff ? section("diff", "Code: the best solution against the prototype", diffView(d.diff)) : null);
    put("files", d.files, () => section("files", "Files and logs",
      el("ul", { class: "files" }, d.files.map((f) => {
        const a = el("a", { href: fileURL(r.id, f.path), "data-path": f.path }, f.path);
        if (f.kind === "text") a.addEventListener("click", (ev) => { ev.preventDefault(); view(r.id, f.path); });
        return el("li", {}, a, el("span", { class: "muted" }, " " + f.size + " B"));
      })), viewer));
  }

  async function view(run, path) {
    const res = await fetch(fileURL(run, path));
    const text = await res.text();
    viewer.replaceChildren(el("h3", {}, path), pre(text, "file"));
  }

  function renderEvents() {
    parts.events.replaceChildren(section("events", "Events (live)",
      el("ol", { class: "events", "data-last": state.lastSeq }, state.events.slice(-200).map((e) =>
        el("li", { "data-type": e.type }, el("span", { class: "seq" }, e.seq), " ", el("span", { class: "etype" }, e.type), " ",
          el("span", { class: "muted" }, new Date(e.time).toLocaleTimeString()), " ",
          e.data === undefined ? "" : el("code", {}, JSON.stringify(e.data).slice(0, 400)))))));
  }

  let pending = null;
  async function refresh() {
    try {
      state.d = await api("/api/runs/" + encodeURIComponent(id));
      render(state.d);
    } catch (e) {
      parts.head.replaceChildren(el("p", { class: "error" }, e.message));
    }
  }
  function soon() {
    if (pending) return;
    pending = setTimeout(() => { pending = null; refresh(); }, 150);
  }

  await refresh();
  renderEvents();
  const live = document.getElementById("live");
  const es = new EventSource("/api/runs/" + encodeURIComponent(id) + "/events");
  es.addEventListener("open", () => { live.textContent = "● live"; live.className = "live"; });
  es.addEventListener("error", () => { live.textContent = "reconnecting…"; live.className = "muted"; });
  es.addEventListener("store", (m) => {
    const e = JSON.parse(m.data);
    state.events.push(e);
    state.lastSeq = e.seq;
    renderEvents();
    soon();
  });
  es.addEventListener("changed", soon);
}

// ---- two runs side by side ----

function flatten(v, prefix, out) {
  if (v && typeof v === "object" && !Array.isArray(v)) {
    for (const [k, x] of Object.entries(v)) flatten(x, prefix ? prefix + "." + k : k, out);
  } else {
    out[prefix] = JSON.stringify(v);
  }
  return out;
}

async function comparePage(main) {
  const q = new URLSearchParams(location.search);
  const runs = await api("/api/runs");
  const pick = (name) => {
    const s = el("select", { id: "cmp-" + name }, el("option", { value: "" }, "choose a run"), runs.map((r) => el("option", { value: r.id }, r.id + (r.task ? " · " + r.task : "") + " · " + r.status)));
    s.value = q.get(name) || "";
    s.addEventListener("change", () => {
      q.set(name, s.value);
      location.search = q.toString();
    });
    return s;
  };
  main.replaceChildren(el("h1", {}, "Compare runs"), el("div", { class: "filters" }, el("label", {}, "A ", pick("a")), el("label", {}, "B ", pick("b"))));
  if (!q.get("a") || !q.get("b")) return;
  const [a, b] = await Promise.all([api("/api/runs/" + encodeURIComponent(q.get("a"))), api("/api/runs/" + encodeURIComponent(q.get("b")))]);
  const row = (name, f) => el("tr", {}, el("td", {}, name), el("td", { class: "num" }, f(a)), el("td", { class: "num" }, f(b)));
  const verdict = (d) => d.verdict || {};
  main.append(section("cmp-metrics", "Metrics", table(["", a.run.id, b.run.id], [
    row("task", (d) => d.run.task || "–"),
    row("status", (d) => d.run.status),
    row("verdict", (d) => d.run.verdict || "–"),
    row("baseline", (d) => num(d.run.baseline)),
    row("best", (d) => num(d.run.best)),
    row("improvement", (d) => num(verdict(d).improvement)),
    row("p", (d) => num(verdict(d).p)),
    row("steps", (d) => d.steps.length),
    row("tokens", (d) => (d.total_usage.input_tokens || 0) + (d.total_usage.output_tokens || 0)),
    row("cost", (d) => cost(d.run.cost)),
  ])));
  const la = seriesLines(a.series), lb = seriesLines(b.series);
  main.append(section("cmp-chart", "Best so far per step",
    chart([{ name: "A", cls: "metric", points: la.best }, { name: "B", cls: "best", points: lb.best }], []),
    legend([["metric", "A " + a.run.id], ["best", "B " + b.run.id]])));
  const fa = flatten(a.config || {}, "", {}), fb = flatten(b.config || {}, "", {});
  const keys = [...new Set([...Object.keys(fa), ...Object.keys(fb)])].sort();
  main.append(section("cmp-config", "Configuration", table(["key", "A", "B"], keys.map((k) =>
    el("tr", { class: fa[k] === fb[k] ? "same" : "differs" }, el("td", {}, k), el("td", {}, fa[k] ?? "–"), el("td", {}, fb[k] ?? "–"))))));
  main.append(section("cmp-code", "Code (each best solution against its prototype)",
    el("div", { class: "side" }, el("div", {}, el("h3", {}, "A"), a.diff ? diffView(a.diff) : el("p", { class: "muted" }, "no best solution")),
      el("div", {}, el("h3", {}, "B"), b.diff ? diffView(b.diff) : el("p", { class: "muted" }, "no best solution")))));
}

document.addEventListener("DOMContentLoaded", () => {
  const main = document.getElementById("main");
  const page = document.body.dataset.page;
  const run = page === "run" ? decodeURIComponent(location.pathname.split("/")[2] || "") : "";
  const go = page === "run" ? runPage(main, run) : page === "compare" ? comparePage(main) : runsPage(main);
  go.catch((e) => main.replaceChildren(el("p", { class: "error" }, e.message)));
});
