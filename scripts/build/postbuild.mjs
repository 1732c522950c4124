#!/usr/bin/env node
// trunk post-build hook (client/Trunk.toml), also runnable by hand:
//   node scripts/build/postbuild.mjs [DIR]     (default: $TRUNK_STAGING_DIR)
// 1. writes DIR/sw.js from public/sw.js with the precache list (every file
//    of the build, with trunk's hashed names) and a build id derived from
//    their contents, so each release replaces the previous cache;
// 2. writes precompressed `.br` (brotli, quality 11) and `.gz` (gzip -9)
//    siblings of the text and wasm files, which the server sends by
//    Accept-Encoding (tower-http ServeDir precompressed_br/gzip).
// 0. minifies the JavaScript (wasm-bindgen's glue is written for reading)
//    with terser from .tools/ (scripts/setup.sh installs it) and updates the
//    integrity hashes trunk wrote into index.html; without terser (a bare
//    `trunk serve` checkout) the scripts stay as they are.
// Otherwise only Node's standard library.

import { createHash } from "node:crypto";
import { readFileSync, writeFileSync, readdirSync, statSync, existsSync, unlinkSync } from "node:fs";
import { join, relative, sep, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { createRequire } from "node:module";
import { brotliCompressSync, gzipSync, constants } from "node:zlib";

const here = dirname(fileURLToPath(import.meta.url));
const template = join(here, "..", "..", "public", "sw.js");
const dir = process.argv[2] || process.env.TRUNK_STAGING_DIR;
if (!dir) {
  console.error("usage: postbuild.mjs DIR (or run as a trunk hook)");
  process.exit(2);
}

const COMPRESSIBLE = /\.(html|js|mjs|wasm|css|webmanifest|json|svg|txt|xml)$/;
const NOT_PRECACHED = /(^|\/)(sw\.js)$|\.(br|gz|map)$/;

function walk(d) {
  const out = [];
  for (const name of readdirSync(d).sort()) {
    if (name.startsWith(".")) continue; // trunk's .stage and the like
    const p = join(d, name);
    if (statSync(p).isDirectory()) out.push(...walk(p));
    else out.push(p);
  }
  return out;
}
const urlOf = (p) => "/" + relative(dir, p).split(sep).join("/");

// Stale siblings of a previous run (when run by hand on a dist/).
for (const p of walk(dir)) {
  if (/\.(br|gz)$/.test(p) && !existsSync(p.slice(0, -3))) unlinkSync(p);
}

// 0. minified scripts, and index.html's integrity hashes to match
let terser = null;
try {
  terser = createRequire(join(here, "..", "..", ".tools", "package.json"))("terser");
} catch {
  console.log("postbuild: terser is not installed (scripts/setup.sh wasm): scripts left as they are");
}
if (terser) {
  let before = 0, after = 0;
  for (const p of walk(dir)) {
    if (!p.endsWith(".js") || urlOf(p) === "/sw.js") continue;
    const code = readFileSync(p, "utf8");
    // ES modules (the first-load glue, wasm-bindgen snippets) export; the
    // classic scripts (no-modules glue, worker loaders) must keep their
    // top-level names, which terser leaves alone unless told otherwise.
    const module = /\bexport\b/.test(code);
    const out = await terser.minify(code, { module, compress: true, mangle: true, format: { comments: false } });
    if (typeof out.code !== "string") throw new Error(`terser failed on ${p}`);
    writeFileSync(p, out.code);
    before += code.length; after += out.code.length;
  }
  const index = join(dir, "index.html");
  const html = readFileSync(index, "utf8").replace(
    /href="(\/[^"]+)"([^>]*?)integrity="sha384-[^"]*"/g,
    (_, href, between) => {
      const file = join(dir, ...href.slice(1).split("/"));
      const digest = createHash("sha384").update(readFileSync(file)).digest("base64");
      return `href="${href}"${between}integrity="sha384-${digest}"`;
    },
  );
  writeFileSync(index, html);
  console.log(`postbuild: scripts minified ${(before / 1024).toFixed(1)} KB -> ${(after / 1024).toFixed(1)} KB`);
}

// 1. sw.js
const files = walk(dir).filter((p) => !NOT_PRECACHED.test(urlOf(p)));
const build = createHash("sha256");
for (const p of files) build.update(urlOf(p) + "\0").update(readFileSync(p));
const buildId = build.digest("hex").slice(0, 16);
const precache = files.map(urlOf);
let sw = readFileSync(template, "utf8");
sw = sw
  .replace(/^const BUILD = .*\/\/ @build$/m, `const BUILD = ${JSON.stringify(buildId)};`)
  .replace(/^const PRECACHE = .*\/\/ @precache$/m, `const PRECACHE = ${JSON.stringify(precache, null, 2)};`);
if (!sw.includes(buildId)) throw new Error("public/sw.js lost its // @build marker");
writeFileSync(join(dir, "sw.js"), sw);

// 2. precompressed siblings
let raw = 0, br = 0, gz = 0;
for (const p of walk(dir)) {
  if (!COMPRESSIBLE.test(p)) continue;
  const body = readFileSync(p);
  if (body.length < 256) continue;
  const b = brotliCompressSync(body, {
    params: {
      [constants.BROTLI_PARAM_QUALITY]: 11,
      [constants.BROTLI_PARAM_SIZE_HINT]: body.length,
      [constants.BROTLI_PARAM_MODE]: p.endsWith(".wasm") ? constants.BROTLI_MODE_GENERIC : constants.BROTLI_MODE_TEXT,
    },
  });
  const g = gzipSync(body, { level: 9 });
  writeFileSync(p + ".br", b);
  writeFileSync(p + ".gz", g);
  raw += body.length; br += b.length; gz += g.length;
}
const kb = (n) => (n / 1024).toFixed(1) + " KB";
console.log(`postbuild: sw.js build ${buildId}, ${precache.length} files precached; ` +
  `compressed ${kb(raw)} -> br ${kb(br)}, gzip ${kb(gz)}`);
