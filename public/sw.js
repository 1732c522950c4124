// Latchkey's service worker: precaches the app shell and serves it first
// from the cache, so the app opens with no network and fast on a repeat
// visit. The build (scripts/build/postbuild.mjs, a trunk post-build hook)
// writes this file into dist/ with BUILD and PRECACHE filled in: every
// release has its own cache, and the old one goes once the new worker takes
// over. A new worker waits until the page asks for it ("A new version is
// available" → Reload) so a page never mixes two releases.
//
// /api is never intercepted: the app keeps its own copy of the sync data
// (GET /api/bootstrap with ETag) and says when the server is needed.

const BUILD = "dev"; // @build
const PRECACHE = []; // @precache
const CACHE = `latchkey-${BUILD}`;
const SHELL = "/index.html";

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches
      .open(CACHE)
      .then((cache) => cache.addAll(PRECACHE.map((url) => new Request(url, { cache: "reload" }))))
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    (async () => {
      for (const name of await caches.keys()) {
        if (name.startsWith("latchkey-") && name !== CACHE) await caches.delete(name);
      }
      await self.clients.claim();
    })()
  );
});

self.addEventListener("message", (event) => {
  if (event.data === "skip-waiting") self.skipWaiting();
});

async function fromCache(request, fallbackToNetwork) {
  const cache = await caches.open(CACHE);
  const hit = await cache.match(request);
  if (hit) return hit;
  return fallbackToNetwork();
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin || url.pathname.startsWith("/api/")) return;
  if (url.pathname === "/sw.js") return;
  if (request.mode === "navigate") {
    // Every page of the app is the same shell; the router takes the path.
    event.respondWith(fromCache(SHELL, () => fetch(request)));
    return;
  }
  event.respondWith(
    fromCache(request, async () => {
      const response = await fetch(request);
      return response;
    })
  );
});
