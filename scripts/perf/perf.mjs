#!/usr/bin/env node
// Measures Latchkey's performance budgets (issue 4) on the release build with
// Debian's Chromium through the DevTools protocol, and prints the figures:
//   1. first load of the sign-in page: bytes transferred (compressed) before
//      the app is interactive — HTML, JS, wasm, CSS, manifest, icons — and,
//      separately, the strength worker loaded after the first paint;
//   2. repeat load served by the service worker: time to interactive
//      (navigation start → the sign-in form rendered and enabled);
//   3. keystroke → strength meter + checklist latency (input event → the DOM
//      shows the full report for that input), p95/max for inputs of 1–64
//      and 65–128 characters;
//   4. Lighthouse (mobile) on the sign-in page, in a fresh profile of its own
//      (scripts/perf/lighthouse.mjs): the four category scores and the
//      Cumulative Layout Shift, with the elements that shifted.
// Usage: ./x perf  (builds, then runs `node --experimental-websocket scripts/perf/perf.mjs`)
// Env: LATCHKEY_BIN (server binary), LATCHKEY_DIST (built PWA), CHROMIUM (browser),
// LIGHTHOUSE_RUNS (default 3; 0 skips Lighthouse), LIGHTHOUSE_OUT (reports).
// Only Node's standard library (Node >= 20 with --experimental-websocket, or
// 22+), and Lighthouse from .tools/ (scripts/setup.sh lighthouse) for 4.

import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, existsSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { setTimeout as sleep } from "node:timers/promises";
import { lighthouse, printLighthouse } from "./lighthouse.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const BIN = process.env.LATCHKEY_BIN || join(root, "target", "release", "latchkey");
const DIST = process.env.LATCHKEY_DIST || join(root, "client", "dist");
const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
const BUDGET = { firstLoadKB: 150, repeatTtiMs: 500, p95At64: 16, p95At128: 50, lhPerformance: 95, cls: 0.1 };

if (typeof WebSocket === "undefined") {
  console.error("needs Node 22+, or Node 20 with --experimental-websocket");
  process.exit(2);
}
for (const [what, p] of [["server binary", BIN], ["built PWA", join(DIST, "index.html")], ["chromium", CHROMIUM]]) {
  if (!existsSync(p)) {
    console.error(`missing ${what}: ${p} (run ./x perf, which builds everything)`);
    process.exit(2);
  }
}

const work = mkdtempSync(join(tmpdir(), "lk-perf-"));
const children = [];
function cleanup() {
  for (const c of children) try { c.kill("SIGKILL"); } catch {}
  try { rmSync(work, { recursive: true, force: true }); } catch {}
}
process.on("exit", cleanup);
process.on("SIGINT", () => process.exit(130));

function startServer() {
  return new Promise((resolve, reject) => {
    const child = spawn(BIN, ["serve"], {
      env: {
        ...process.env,
        SSPM_DATABASE_URL: `sqlite://${join(work, "perf.db")}?mode=rwc`,
        SSPM_LISTEN: "127.0.0.1:0",
        SSPM_STATIC_DIR: DIST,
        SSPM_DEMO: "true",
        RUST_LOG: "warn",
      },
      stdio: ["ignore", "pipe", "inherit"],
    });
    children.push(child);
    let buf = "";
    child.stdout.on("data", (d) => {
      buf += d;
      const m = buf.match(/Latchkey listening on (http:\/\/\S+)/);
      if (m) resolve(m[1]);
    });
    child.on("exit", (code) => reject(new Error(`server exited (${code})`)));
    setTimeout(() => reject(new Error("server did not start")), 60000).unref();
  });
}

async function startChromium() {
  const profile = join(work, "chrome");
  const child = spawn(CHROMIUM, [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-dev-shm-usage",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--remote-debugging-port=0", `--user-data-dir=${profile}`, "--window-size=1280,800", "about:blank",
  ], { stdio: "ignore" });
  children.push(child);
  for (let i = 0; i < 300; i++) {
    const f = join(profile, "DevToolsActivePort");
    if (existsSync(f)) {
      const [port, path] = readFileSync(f, "utf8").trim().split("\n");
      if (port && path) return `ws://127.0.0.1:${port}${path}`;
    }
    await sleep(100);
  }
  throw new Error("chromium did not start");
}

/** A minimal DevTools protocol client (flattened sessions). */
class Cdp {
  constructor(url) {
    this.ws = new WebSocket(url);
    this.id = 0;
    this.pending = new Map();
    this.listeners = [];
    this.ws.onmessage = (e) => {
      const msg = JSON.parse(e.data);
      if (msg.id && this.pending.has(msg.id)) {
        const { resolve, reject } = this.pending.get(msg.id);
        this.pending.delete(msg.id);
        msg.error ? reject(new Error(JSON.stringify(msg.error))) : resolve(msg.result);
      } else if (msg.method) {
        for (const l of this.listeners) l(msg);
      }
    };
  }
  open() { return new Promise((r, j) => { this.ws.onopen = r; this.ws.onerror = j; }); }
  send(method, params = {}, sessionId) {
    const id = ++this.id;
    this.ws.send(JSON.stringify({ id, method, params, sessionId }));
    return new Promise((resolve, reject) => this.pending.set(id, { resolve, reject }));
  }
  on(f) { this.listeners.push(f); return () => (this.listeners = this.listeners.filter((l) => l !== f)); }
}

async function evaluate(cdp, session, expression) {
  const r = await cdp.send("Runtime.evaluate", { expression, awaitPromise: true, returnByValue: true }, session);
  if (r.exceptionDetails) throw new Error(JSON.stringify(r.exceptionDetails));
  return r.result.value;
}

async function waitFor(cdp, session, expression, ms = 30000) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await evaluate(cdp, session, expression).catch(() => false)) return;
    await sleep(50);
  }
  throw new Error(`timed out waiting for ${expression}`);
}

// Installed before every document: when the sign-in form is rendered and
// enabled, note the time since navigation start.
const INTERACTIVE_PROBE = `
  (() => {
    const ready = () => { const b = document.getElementById('login'); return b && !b.disabled && document.getElementById('domain')?.options.length > 0; };
    const mark = () => { if (!window.__lkInteractive && ready()) { window.__lkInteractive = performance.now(); return true; } return false; };
    new MutationObserver((_, mo) => { if (mark()) mo.disconnect(); })
      .observe(document, { childList: true, subtree: true, attributes: true });
  })();`;

// Records every layout shift of the page with the elements that moved
// (Lighthouse 12's own "layout shifts" audit fails on this Chromium).
const SHIFT_PROBE = `
  (() => {
    window.__lkShifts = [];
    const name = (n) => !n ? '(gone)' : n.nodeType !== 1 ? n.nodeName :
      n.tagName.toLowerCase() + (n.id ? '#' + n.id : '') + (n.className && typeof n.className === 'string' ? '.' + n.className.trim().split(/\\s+/).join('.') : '');
    const rect = (r) => [Math.round(r.x), Math.round(r.y), Math.round(r.width), Math.round(r.height)].join(',');
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) window.__lkShifts.push({
        value: e.value, input: e.hadRecentInput, t: Math.round(e.startTime),
        sources: (e.sources || []).map((s) => ({ node: name(s.node), from: rect(s.previousRect), to: rect(s.currentRect) })),
      });
    }).observe({ type: 'layout-shift', buffered: true });
    window.__lkLongTasks = [];
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) window.__lkLongTasks.push([Math.round(e.startTime), Math.round(e.duration)]);
    }).observe({ type: 'longtask', buffered: true });
  })();`;

/**
 * A first visit in a fresh browser context at the given size, the CPU slowed
 * down 4× as Lighthouse's mobile run assumes: the layout shifts the page
 * makes while it loads (its CLS is their sum, without those after input).
 */
async function layoutShifts(cdp, url, { width, height, mobile }) {
  const { browserContextId } = await cdp.send("Target.createBrowserContext");
  const { targetId } = await cdp.send("Target.createTarget", { url: "about:blank", browserContextId });
  const { sessionId } = await cdp.send("Target.attachToTarget", { targetId, flatten: true });
  await cdp.send("Page.enable", {}, sessionId);
  await cdp.send("Runtime.enable", {}, sessionId);
  await cdp.send("Emulation.setDeviceMetricsOverride", { width, height, deviceScaleFactor: mobile ? 2 : 1, mobile }, sessionId);
  await cdp.send("Emulation.setCPUThrottlingRate", { rate: 4 }, sessionId);
  await cdp.send("Page.addScriptToEvaluateOnNewDocument", { source: SHIFT_PROBE + INTERACTIVE_PROBE }, sessionId);
  await cdp.send("Page.navigate", { url }, sessionId);
  await waitFor(cdp, sessionId, "!!window.__lkInteractive");
  await sleep(4000); // notices, the strength worker, the service worker
  const shifts = await evaluate(cdp, sessionId, "window.__lkShifts");
  const longTasks = await evaluate(cdp, sessionId, "window.__lkLongTasks");
  await cdp.send("Target.disposeBrowserContext", { browserContextId });
  const cls = shifts.filter((e) => !e.input).reduce((a, e) => a + e.value, 0);
  return { cls, shifts, longTasks };
}

function printShifts(label, { cls, shifts, longTasks }) {
  const blocking = longTasks.reduce((a, [, d]) => a + Math.max(0, d - 50), 0);
  console.log(`  ${label}: CLS ${cls.toFixed(3)} (${shifts.length} shift${shifts.length === 1 ? "" : "s"}); ` +
    `long tasks (start+duration ms) ${longTasks.map(([t, d]) => `${t}+${d}`).join(", ") || "none"}, ${blocking} ms over 50 ms`);
  for (const e of shifts) {
    console.log(`    ${e.value.toFixed(3)} at ${e.t} ms${e.input ? " (after input)" : ""}`);
    for (const src of e.sources) console.log(`      ${src.node}: ${src.from} -> ${src.to}`);
  }
}

const pct = (xs, p) => { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]; };
const kb = (n) => (n / 1024).toFixed(1);

async function main() {
  const base = await startServer();
  const cdp = new Cdp(await startChromium());
  await cdp.open();
  const { targetId } = await cdp.send("Target.createTarget", { url: "about:blank" });
  const { sessionId: s } = await cdp.send("Target.attachToTarget", { targetId, flatten: true });
  await cdp.send("Page.enable", {}, s);
  await cdp.send("Runtime.enable", {}, s);
  await cdp.send("Network.enable", {}, s);
  await cdp.send("Page.addScriptToEvaluateOnNewDocument", { source: INTERACTIVE_PROBE }, s);

  // Every response of the page (and its dedicated worker), with its size on the wire.
  const requests = new Map();
  cdp.on((m) => {
    if (m.sessionId !== s) return;
    const p = m.params;
    if (m.method === "Network.requestWillBeSent") requests.set(p.requestId, { url: p.request.url, t: p.timestamp, bytes: 0 });
    if (m.method === "Network.responseReceived" && requests.has(p.requestId)) {
      Object.assign(requests.get(p.requestId), {
        status: p.response.status, sw: !!p.response.fromServiceWorker,
        encoding: (p.response.headers["content-encoding"] || p.response.headers["Content-Encoding"] || "identity"),
      });
    }
    if (m.method === "Network.loadingFinished" && requests.has(p.requestId)) requests.get(p.requestId).bytes = p.encodedDataLength;
  });

  // 1. First load, fresh profile.
  await cdp.send("Page.navigate", { url: base + "/" }, s);
  await waitFor(cdp, s, "!!window.__lkInteractive");
  const firstTti = await evaluate(cdp, s, "window.__lkInteractive");
  // Let the deferred strength worker and the service worker finish.
  await waitFor(cdp, s, "navigator.serviceWorker.controller !== null", 60000);
  await sleep(1500);
  const isWorker = (u) => /latchkey-strength-worker/.test(u);
  const all = [...requests.values()].filter((r) => r.url.startsWith(base) && r.status);
  const critical = all.filter((r) => !isWorker(r.url) && !r.url.includes("/api/"));
  const api = all.filter((r) => r.url.includes("/api/"));
  const firstBytes = critical.reduce((a, r) => a + r.bytes, 0);
  console.log("\n== First load of the sign-in page (fresh profile) ==");
  for (const r of critical) console.log(`  ${kb(r.bytes).padStart(7)} KB  ${r.encoding.padEnd(8)} ${r.url.replace(base, "")}`);
  console.log(`  total app shell: ${kb(firstBytes)} KB compressed (budget ${BUDGET.firstLoadKB} KB) — interactive at ${firstTti.toFixed(0)} ms`);
  console.log(`  + sync data (/api): ${kb(api.reduce((a, r) => a + r.bytes, 0))} KB`);
  // The dedicated worker's own requests are not the page's (another DevTools
  // target): report its files' brotli sizes, which is what the server sends.
  const workerBr = ["latchkey-strength-worker.js", "latchkey-strength-worker_bg.wasm", "latchkey-strength-worker_loader.js"]
    .map((f) => join(DIST, f)).map((p) => (existsSync(p + ".br") ? p + ".br" : p)).filter(existsSync)
    .reduce((a, p) => a + readFileSync(p).length, 0);
  console.log(`  + after first paint, strength worker (zxcvbn): ${kb(workerBr)} KB brotli, not part of the first load`);

  // 2. Repeat loads from the service worker.
  const ttis = [];
  for (let i = 0; i < 7; i++) {
    requests.clear();
    await cdp.send("Page.navigate", { url: base + "/" }, s);
    await waitFor(cdp, s, "!!window.__lkInteractive");
    ttis.push(await evaluate(cdp, s, "window.__lkInteractive"));
    await sleep(300);
  }
  const shell = [...requests.values()].filter((r) => r.url.startsWith(base) && !r.url.includes("/api/") && r.status);
  const fromSw = shell.filter((r) => r.sw).length;
  const repeatMedian = pct(ttis, 50);
  console.log("\n== Repeat load (service worker) ==");
  console.log(`  time to interactive: median ${repeatMedian.toFixed(0)} ms, max ${Math.max(...ttis).toFixed(0)} ms over ${ttis.length} loads (budget ${BUDGET.repeatTtiMs} ms); ${fromSw}/${shell.length} shell responses from the service worker`);

  // 3. Keystroke → meter latency on the sign-in page's password check.
  await waitFor(cdp, s, "!!document.getElementById('try-password')");
  const latencies = await evaluate(cdp, s, `(async () => {
    const text = 'Tr0ub4dor&3 correct horse battery staple, orbit lantern 42! '.repeat(4).slice(0, 128);
    const el = document.getElementById('try-password');
    const setValue = Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value').set;
    const settled = () => { const m = document.getElementById('strength'); return m && m.hasAttribute('data-score') && !m.hasAttribute('data-pending'); };
    const type = (v) => new Promise((resolve) => {
      const t0 = performance.now();
      let checklist = null;
      const box = document.querySelector('.password-preview');
      const mo = new MutationObserver(() => {
        if (checklist === null) checklist = performance.now() - t0;
        if (settled()) { mo.disconnect(); clearTimeout(timer); resolve({ meter: performance.now() - t0, checklist }); }
      });
      const timer = setTimeout(() => { mo.disconnect(); resolve({ meter: 5000, checklist }); }, 5000);
      mo.observe(box, { attributes: true, childList: true, subtree: true, characterData: true });
      setValue.call(el, v);
      el.dispatchEvent(new InputEvent('input', { bubbles: true, inputType: 'insertText', data: v.slice(-1) }));
    });
    // Warm up: the worker must have loaded (it starts after the first paint).
    await type('warm-up');
    const out = [];
    for (let round = 0; round < 2; round++) {
      setValue.call(el, ''); el.dispatchEvent(new InputEvent('input', { bubbles: true }));
      await new Promise((r) => setTimeout(r, 50));
      for (let i = 1; i <= text.length; i++) {
        const r = await type(text.slice(0, i));
        out.push({ len: i, ...r });
        await new Promise((r) => setTimeout(r, 25));
      }
    }
    return out;
  })()`);
  const up64 = latencies.filter((l) => l.len <= 64);
  const up128 = latencies.filter((l) => l.len <= 128);
  const p95_64 = pct(up64.map((l) => l.meter), 95);
  const p95_128 = pct(up128.map((l) => l.meter), 95);
  console.log("\n== Keystroke → strength meter and checklist (full report for that input) ==");
  console.log(`  up to 64 chars:  p95 ${p95_64.toFixed(1)} ms, max ${Math.max(...up64.map((l) => l.meter)).toFixed(1)} ms (budget ${BUDGET.p95At64} ms); quick checklist p95 ${pct(up64.map((l) => l.checklist ?? 0), 95).toFixed(1)} ms`);
  console.log(`  up to 128 chars: p95 ${p95_128.toFixed(1)} ms, max ${Math.max(...up128.map((l) => l.meter)).toFixed(1)} ms (budget ${BUDGET.p95At128} ms)`);

  // Layout shifts of a first visit, at phone and desktop size.
  console.log("\n== Layout shifts of a first visit (fresh profile, CPU 4x slower) ==");
  const phoneShifts = await layoutShifts(cdp, base + "/", { width: 412, height: 823, mobile: true });
  printShifts("phone 412x823", phoneShifts);
  printShifts("desktop 1366x900", await layoutShifts(cdp, base + "/", { width: 1366, height: 900, mobile: false }));

  // 4. Lighthouse, with this browser closed so that it has the cores.
  const lhRuns = Number(process.env.LIGHTHOUSE_RUNS ?? 3);
  let lh = null;
  if (lhRuns > 0) {
    await cdp.send("Browser.close").catch(() => {});
    console.log(`\n== Lighthouse, sign-in page (mobile, ${CHROMIUM}) ==`);
    lh = await lighthouse(base + "/", { runs: lhRuns });
    printLighthouse(lh);
  }

  const verdict = (ok) => (ok ? "PASS" : "OVER");
  console.log("\n== Budgets ==");
  console.log(`  first load ${kb(firstBytes)} KB <= ${BUDGET.firstLoadKB} KB: ${verdict(firstBytes <= BUDGET.firstLoadKB * 1024)}`);
  console.log(`  repeat-load TTI ${repeatMedian.toFixed(0)} ms < ${BUDGET.repeatTtiMs} ms: ${verdict(repeatMedian < BUDGET.repeatTtiMs)}`);
  console.log(`  keystroke p95 (<=64) ${p95_64.toFixed(1)} ms <= ${BUDGET.p95At64} ms: ${verdict(p95_64 <= BUDGET.p95At64)}`);
  console.log(`  keystroke p95 (<=128) ${p95_128.toFixed(1)} ms <= ${BUDGET.p95At128} ms: ${verdict(p95_128 <= BUDGET.p95At128)}`);
  if (lh) {
    const { scores, cls } = lh.median;
    console.log(`  Lighthouse performance ${scores.performance} >= ${BUDGET.lhPerformance}: ${verdict(scores.performance >= BUDGET.lhPerformance)}`);
    console.log(`  Lighthouse CLS ${cls.toFixed(3)} < ${BUDGET.cls}: ${verdict(cls < BUDGET.cls)}`);
  }
  process.exit(0);
}

main().catch((e) => { console.error(e); process.exit(1); });
