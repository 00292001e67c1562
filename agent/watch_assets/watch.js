// screenloop watch page: follows one run's event log (server-sent events) and steers it.
// Everything the server sends is shown with textContent, never parsed as HTML.
(function () {
  "use strict";
  var token = new URLSearchParams(location.search).get("t") || "";
  var runId = document.body.getAttribute("data-run") || "";
  var $ = function (id) { return document.getElementById(id); };
  var steps = {};
  var current = null;
  var maxSteps = null;
  var started = Date.now();
  var ended = false;
  var pending = null; // "pause" | "resume" | "stop" while the run has not answered yet

  function q(params) {
    var out = [];
    params.t = token;
    for (var k in params) out.push(encodeURIComponent(k) + "=" + encodeURIComponent(params[k]));
    return "?" + out.join("&");
  }
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }
  function secs(s) {
    if (s === undefined || s === null) return "";
    return s >= 60 ? Math.floor(s / 60) + ":" + ("0" + Math.floor(s % 60)).slice(-2) : s.toFixed(s < 10 ? 2 : 1) + "s";
  }
  function setStatus(status, label) {
    var pill = $("status");
    pill.className = "status st-" + status;
    pill.textContent = label || status.replace("_", " ");
    document.body.setAttribute("data-status", status);
  }
  function flash(text) { $("flash").textContent = text || ""; }

  // -- the timeline ------------------------------------------------------------------------
  function step(n) {
    if (steps[n]) return steps[n];
    var li = el("li", "tstep");
    li.id = "step-" + n;
    var head = el("div", "head");
    head.appendChild(el("span", "num", "Step " + n));
    var what = el("span", "what", "asking the model…");
    var dur = el("span", "dur", "");
    head.appendChild(what);
    head.appendChild(dur);
    li.appendChild(head);
    var s = { li: li, what: what, dur: dur, t0: null, model: null, acts: {} };
    steps[n] = s;
    var list = $("timeline");
    list.insertBefore(li, list.firstChild);
    var empty = $("nosteps");
    if (empty) empty.remove();
    return s;
  }
  function line(n, cls, text) {
    var p = el("p", "line " + (cls || ""), text);
    step(n).li.appendChild(p);
    return p;
  }
  function setCurrent(n) {
    if (current !== null && steps[current]) steps[current].li.classList.remove("current");
    current = n;
    steps[n].li.classList.add("current");
    $("stepno").textContent = n + (maxSteps ? " of " + maxSteps : "");
  }

  // -- the screen --------------------------------------------------------------------------
  var shotSize = { w: 16, h: 9 };
  function clearMarkers() {
    $("markers").textContent = "";
    $("doing").hidden = true;
  }
  function marker(x, y, cls, tag) {
    var m = el("div", "marker " + (cls || ""));
    var px = (100 * x) / shotSize.w, py = (100 * y) / shotSize.h;
    m.style.left = px + "%";
    m.style.top = py + "%";
    if (px > 70) m.classList.add("flip");
    m.appendChild(el("span", "ring"));
    m.appendChild(el("span", "dot"));
    if (tag) m.appendChild(el("span", "tag", tag));
    $("markers").appendChild(m);
  }
  function drawAction(e) {
    var s = e.screen || {};
    var kind = e.type;
    var cls = kind === "right_click" ? "right" : kind === "move" ? "move" : kind === "scroll" ? "scroll" : "";
    if (kind === "drag" && s.path && s.path.length) {
      var a = s.path[0], b = s.path[s.path.length - 1];
      marker(a[0], a[1], "drag", "drag");
      marker(b[0], b[1], "drag drag-end", "");
    } else if (typeof s.x === "number" && typeof s.y === "number") {
      marker(s.x, s.y, cls, kind.replace("_", " "));
    }
    var chip = $("doing");
    chip.textContent = "next: " + e.words;
    chip.hidden = false;
  }
  function showShot(e) {
    clearMarkers();
    shotSize = { w: e.width || 16, h: e.height || 9 };
    var fig = $("shot");
    fig.style.aspectRatio = shotSize.w + " / " + shotSize.h;
    var img = $("img");
    if (e.n === null || e.n === undefined) {
      $("shotmeta").textContent = "step " + e.step + ": not recorded (record=False), nothing to show";
      return;
    }
    img.classList.remove("none");
    img.src = "/shot" + q({ run: runId, n: e.n });
    img.setAttribute("data-n", e.n);
    $("shotmeta").textContent = (e.step ? "after step " + e.step : "first screen") + " · " +
      e.width + "×" + e.height + " · settle " + secs(e.settle_s) + ", capture " + secs(e.capture_s);
  }

  // -- approvals ---------------------------------------------------------------------------
  var timers = {};
  function showApproval(e) {
    var box = el("div", "approval");
    box.id = "approval-" + e.id;
    box.appendChild(el("h3", "", "The model raised a safety check"));
    (e.checks || []).forEach(function (c) {
      var p = el("div", "check");
      p.appendChild(el("b", "", c.code));
      p.appendChild(el("span", "", c.message));
      box.appendChild(p);
    });
    var row = el("div", "row");
    var ack = el("button", "ack", "Acknowledge");
    var deny = el("button", "deny", "Deny");
    ack.type = deny.type = "button";
    var left = el("span", "left", "");
    var deadline = Date.now() + 1000 * (e.timeout_s || 0);
    function tick() {
      left.textContent = "denied in " + Math.max(0, Math.round((deadline - Date.now()) / 1000)) + " s";
    }
    tick();
    timers[e.id] = setInterval(tick, 1000);
    function answer(action) {
      ack.disabled = deny.disabled = true;
      send({ action: action, id: e.id });
    }
    ack.addEventListener("click", function () { answer("acknowledge"); });
    deny.addEventListener("click", function () { answer("deny"); });
    row.appendChild(ack);
    row.appendChild(deny);
    row.appendChild(left);
    box.appendChild(row);
    $("approvals").appendChild(box);
    setStatus("waiting", "waiting for you");
  }
  function closeApproval(e) {
    clearInterval(timers[e.id]);
    var box = $("approval-" + e.id);
    if (box) box.remove();
    if (!ended) setStatus("running");
  }

  // -- the controls ------------------------------------------------------------------------
  function send(body) {
    body.run = runId;
    return fetch("/control", {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-Screenloop-Token": token },
      body: JSON.stringify(body),
      cache: "no-store",
      credentials: "omit",
    }).then(function (r) {
      return r.json().then(function (j) {
        if (!r.ok) flash(j.error || "refused");
        return j;
      });
    }, function () { flash("the watch server is gone"); });
  }
  $("pause").addEventListener("click", function () {
    pending = "pause";
    $("pause").disabled = true;
    setStatus("pausing", "pausing after this step");
    send({ action: "pause" });
  });
  $("resume").addEventListener("click", function () {
    pending = "resume";
    $("resume").disabled = true;
    send({ action: "resume" });
  });
  $("stop").addEventListener("click", function () {
    pending = "stop";
    $("stop").disabled = true;
    setStatus("stopping", "stopping");
    send({ action: "stop" });
  });
  $("say").addEventListener("submit", function (ev) {
    ev.preventDefault();
    var box = $("text");
    var text = box.value.trim();
    if (!text) return;
    send({ action: "message", text: text }).then(function (j) {
      if (j && j.ok) {
        box.value = "";
        flash("sent with the next request");
      }
    });
  });
  function controlsOff() {
    ["pause", "resume", "stop", "text", "sendbtn"].forEach(function (id) { $(id).disabled = true; });
  }

  // -- the log -----------------------------------------------------------------------------
  function handle(e) {
    switch (e.kind) {
      case "run":
        runId = e.id;
        maxSteps = e.max_steps;
        $("task").textContent = e.task;
        if (e.task) document.title = "screenloop · watch · " + e.task.slice(0, 80);
        $("model").textContent = e.model;
        $("safety").textContent = e.safety;
        started = Date.now() - 1000 * (e.t || 0);
        break;
      case "step_started":
        var s = step(e.step);
        s.t0 = e.t;
        setCurrent(e.step);
        break;
      case "response":
        var r = step(e.step);
        r.model = e.model_s;
        r.dur.textContent = "model " + secs(e.model_s);
        (e.reasoning || []).forEach(function (t) { line(e.step, "think", t); });
        (e.messages || []).forEach(function (t) { line(e.step, "msg", t); });
        if ((e.output_types || []).indexOf("computer_call") < 0) r.what.textContent = "answered";
        break;
      case "action_starting":
        var a = step(e.step);
        a.what.textContent = e.words;
        a.acts[e.call_id + ":" + e.index] = line(e.step, "act", e.words);
        drawAction(e);
        break;
      case "action_executed":
        var p = step(e.step).acts[e.call_id + ":" + e.index] || line(e.step, "act", e.words);
        p.appendChild(el("span", "t", secs(e.action_s)));
        if (e.error) p.appendChild(el("span", "errtext", " " + e.error));
        break;
      case "screenshot":
        showShot(e);
        if (e.step && steps[e.step] && steps[e.step].t0 !== null) {
          steps[e.step].dur.textContent = "model " + secs(steps[e.step].model) + " · step " + secs(e.t - steps[e.step].t0);
        }
        break;
      case "safety_decision":
        line(e.step, "sf " + e.decision, e.code + ": " + e.decision + " (" + e.decided_by + ")");
        break;
      case "approval":
        if (e.step) step(e.step).what.textContent = "a safety check waits for you";
        showApproval(e);
        break;
      case "approval_closed":
        closeApproval(e);
        break;
      case "control":
        line(e.step, e.control === "message" ? "ctl said" : "ctl", e.control === "message" ? "you said: " + e.message : e.message);
        if (e.control === "pause") {
          setStatus("paused", "paused");
          $("pause").hidden = true;
          $("resume").hidden = false;
          $("resume").disabled = false;
          pending = null;
        } else if (e.control === "resume") {
          setStatus("running");
          $("resume").hidden = true;
          $("pause").hidden = false;
          $("pause").disabled = false;
          pending = null;
        }
        break;
      case "finished":
        finish(e);
        break;
      default:
        if (e.step) line(e.step, "ev", e.kind + (e.message ? ": " + e.message : ""));
    }
  }
  function finish(e) {
    ended = true;
    setStatus(e.status);
    controlsOff();
    clearMarkers();
    if (current !== null && steps[current]) steps[current].li.classList.remove("current");
    Object.keys(timers).forEach(function (k) { clearInterval(timers[k]); });
    $("approvals").textContent = "";
    var box = $("final");
    box.textContent = "";
    box.className = "answer" + (e.status === "completed" ? "" : " err");
    box.appendChild(el("span", "label", e.status === "completed" ? "Final answer" : "Run ended: " + e.status.replace("_", " ")));
    box.appendChild(el("span", "", e.final_output || e.error || "(no answer)"));
    if (e.report) {
      var a = el("a", "", "Open the report");
      a.href = "/report" + q({ run: runId });
      a.target = "_blank";
      a.rel = "noopener noreferrer";
      a.id = "report";
      box.appendChild(el("br"));
      box.appendChild(a);
    }
    if (e.run_dir) box.appendChild(el("span", "path", e.run_dir));
    box.hidden = false;
    $("elapsed").textContent = secs((e.timings && e.timings.total_s) || (Date.now() - started) / 1000);
  }

  // -- the server's runs (a batch registers many): a list linking each run's page ----------
  var runsTimer = null;
  function showRuns(list) {
    var box = $("runs");
    box.textContent = "";
    list.forEach(function (r) {
      var li = el("li", "runitem" + (r.id === runId ? " here" : ""));
      var a = el("a", "", r.task || r.id);
      a.href = "/" + q({ run: r.id });
      li.appendChild(el("span", "rid", r.id));
      li.appendChild(a);
      li.appendChild(el("span", "status st-" + r.status, String(r.status).replace("_", " ")));
      box.appendChild(li);
    });
    $("runsnav").hidden = list.length < 2;  // one run: the page stays as it was
  }
  function listRuns() {
    fetch("/runs" + q({}), { cache: "no-store", credentials: "omit" }).then(function (r) {
      return r.ok ? r.json() : null;
    }).then(function (j) {
      if (j && j.runs) showRuns(j.runs);
    }, function () {  // the watch server is gone
      if (runsTimer !== null) clearInterval(runsTimer);
      runsTimer = null;
    });
  }
  listRuns();  // and again while the server lives: a batch registers runs as they start
  runsTimer = setInterval(listRuns, 3000);

  // Without a run yet, the stream waits for the first one and names it in its first entry.
  var source = new EventSource("/events" + q(runId ? { run: runId } : {}));
  source.onmessage = function (m) {
    $("live").classList.remove("off");
    handle(JSON.parse(m.data));
    if (ended) source.close();
  };
  source.onerror = function () {
    if (!ended) $("live").classList.add("off");
  };
  setInterval(function () {
    if (!ended) $("elapsed").textContent = secs((Date.now() - started) / 1000);
  }, 1000);
})();
