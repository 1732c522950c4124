#!/usr/bin/env node
// Lighthouse on a page of Latchkey, as the issue measured it: mobile form
// factor (Lighthouse's default emulation and simulated throttling), Debian's
// Chromium. Prints the four category scores, the Cumulative Layout Shift and
// what shifted. Called by scripts/perf/perf.mjs (`./x perf`) against the
// release server it starts; also runnable on its own against any server:
//   node scripts/perf/lighthouse.mjs http://127.0.0.1:8080/
// Lighthouse itself is installed into .tools/ by `scripts/setup.sh lighthouse`
// (which `./x perf` runs; `./x test` does not need it).
// Env: CHROME_PATH (default /usr/bin/chromium), LIGHTHOUSE_RUNS (default 3;
// the median run by performance score is reported), LIGHTHOUSE_OUT (where
// the JSON and HTML reports go; default target/lighthouse).

import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const CLI = join(root, ".tools", "node_modules", "lighthouse", "cli", "index.js");
const CHROME_FLAGS = "--headless --no-sandbox --disable-gpu --disable-background-networking";
const CATEGORIES = ["performance", "accessibility", "best-practices", "seo"];

function runOnce(url, outBase) {
  const args = [
    CLI, url,
    "--quiet",
    "--form-factor=mobile",
    `--chrome-flags=${CHROME_FLAGS}`,
    `--only-categories=${CATEGORIES.join(",")}`,
    "--output=json", "--output=html",
    `--output-path=${outBase}`,
  ];
  const env = { ...process.env, CHROME_PATH: process.env.CHROME_PATH || "/usr/bin/chromium" };
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { env, stdio: ["ignore", "ignore", "pipe"] });
    let err = "";
    child.stderr.on("data", (d) => (err += d));
    child.on("exit", (code) => {
      if (code !== 0) return reject(new Error(`lighthouse exited ${code}: ${err.trim().slice(-2000)}`));
      resolve(JSON.parse(readFileSync(`${outBase}.report.json`, "utf8")));
    });
  });
}

/** What one report says, in numbers. */
function summarize(lhr) {
  const score = (c) => Math.round((lhr.categories[c]?.score ?? 0) * 100);
  const audit = (id) => lhr.audits[id];
  const shifts = (audit("layout-shifts")?.details?.items || []).map((i) => ({
    score: i.score,
    node: i.node?.selector || i.node?.snippet || "(unknown)",
    snippet: i.node?.snippet || "",
  }));
  return {
    version: `Lighthouse ${lhr.lighthouseVersion}, ${(lhr.environment?.hostUserAgent || "").match(/(HeadlessChrome|Chrome)\/[\d.]+/)?.[0] || "?"}`,
    scores: Object.fromEntries(CATEGORIES.map((c) => [c, score(c)])),
    cls: audit("cumulative-layout-shift")?.numericValue ?? NaN,
    fcp: audit("first-contentful-paint")?.numericValue,
    lcp: audit("largest-contentful-paint")?.numericValue,
    tbt: audit("total-blocking-time")?.numericValue,
    si: audit("speed-index")?.numericValue,
    shifts,
    failing: Object.values(lhr.audits)
      .filter((a) => a.score !== null && a.score < 0.9 && a.scoreDisplayMode !== "informative" && a.scoreDisplayMode !== "manual")
      .map((a) => `${a.id} (${a.displayValue || Math.round(a.score * 100)})`),
  };
}

/**
 * Runs Lighthouse `runs` times on `url` and returns the median run (by
 * performance score, then CLS) with every run's figures.
 */
export async function lighthouse(url, { runs = Number(process.env.LIGHTHOUSE_RUNS || 3), out } = {}) {
  if (!existsSync(CLI)) {
    throw new Error(`Lighthouse is not installed in .tools/ (run scripts/setup.sh lighthouse)`);
  }
  const dir = out || process.env.LIGHTHOUSE_OUT || join(root, "target", "lighthouse");
  mkdirSync(dir, { recursive: true });
  const all = [];
  for (let i = 1; i <= runs; i++) {
    const lhr = await runOnce(url, join(dir, `sign-in-${i}`));
    all.push({ ...summarize(lhr), report: join(dir, `sign-in-${i}.report.html`) });
  }
  const sorted = [...all].sort((a, b) => a.scores.performance - b.scores.performance || b.cls - a.cls);
  return { median: sorted[Math.floor((sorted.length - 1) / 2)], all };
}

const ms = (v) => (v === undefined ? "?" : `${Math.round(v)} ms`);

/** Prints a result of [`lighthouse`]. */
export function printLighthouse({ median, all }) {
  const s = median.scores;
  console.log(`  ${median.version}, mobile; median of ${all.length} runs: performance ${s.performance}, accessibility ${s.accessibility}, best practices ${s["best-practices"]}, SEO ${s.seo}`);
  console.log(`  CLS ${median.cls.toFixed(3)}, FCP ${ms(median.fcp)}, LCP ${ms(median.lcp)}, TBT ${ms(median.tbt)}, Speed Index ${ms(median.si)}`);
  console.log(`  every run (performance / CLS): ${all.map((r) => `${r.scores.performance} / ${r.cls.toFixed(3)}`).join(", ")}`);
  if (median.shifts.length) {
    console.log("  layout shifts (median run):");
    for (const sh of median.shifts) console.log(`    ${sh.score.toFixed(3)}  ${sh.node}`);
  } else {
    console.log("  layout shifts (median run): none");
  }
  if (median.failing.length) console.log(`  audits under 90: ${median.failing.join(", ")}`);
  console.log(`  report: ${median.report}`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const url = process.argv[2];
  if (!url) {
    console.error("usage: node scripts/perf/lighthouse.mjs URL");
    process.exit(2);
  }
  lighthouse(url).then(printLighthouse).catch((e) => { console.error(e.message); process.exit(1); });
}
