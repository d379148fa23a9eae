// DocStream service worker: keeps the app shell (index.html and the built assets) so the editor
// opens while offline; documents then come from the offline queue in IndexedDB. API calls and
// WebSockets are never cached.
const CACHE = "docstream-shell-v2";
const API = /^\/(auth|documents|suggest|ws|schema|health)(\/|$)/;

// One asset into the cache, tried again on a failed fetch or an error status: on a loaded
// machine a single refused connection would otherwise throw the whole install away.
async function keep(cache, path, tries = 3) {
  for (let attempt = 1; ; attempt++) {
    try {
      await cache.add(path);
      return;
    } catch (exc) {
      if (attempt >= tries) throw exc;
      await new Promise((r) => setTimeout(r, 250 * attempt));
    }
  }
}

self.addEventListener("install", (event) => {
  // The shell and every asset it names, so the first offline reload already works.
  event.waitUntil(
    caches
      .open(CACHE)
      .then(async (cache) => {
        const res = await fetch("/", { cache: "no-store" });
        if (!res.ok) throw new Error(`the app shell answered ${res.status}`);
        const html = await res.clone().text();
        await cache.put("/", res);
        // What index.html names, then what those scripts name (the chunks loaded on demand, such
        // as the editor), until nothing new turns up.
        const seen = new Set(html.match(/\/assets\/[^"' )]+/g) || []);
        await Promise.all([...seen].map((p) => keep(cache, p)));
        let batch = [...seen];
        while (batch.length) {
          const named = [];
          for (const path of batch.filter((p) => p.endsWith(".js"))) {
            const hit = await cache.match(path);
            if (!hit) continue; // a name that was no file (below)
            for (const m of (await hit.text()).matchAll(/(?:assets\/|\.\/)([\w.-]+\.(?:js|css))\b/g)) {
              const asset = `/assets/${m[1]}`;
              if (!seen.has(asset)) named.push(asset);
              seen.add(asset);
            }
          }
          // A name read out of a script may be no file at all: skipped, not fatal.
          await Promise.all(named.map((p) => keep(cache, p, 1).catch(() => undefined)));
          batch = named;
        }
      })
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((keys) => Promise.all(keys.filter((k) => k !== CACHE).map((k) => caches.delete(k))))
      .then(() => self.clients.claim()),
  );
});

// A page can be left uncontrolled by an active worker: one loaded while this worker was still
// installing, whose navigation finished after the claim at activation, or a hard reload. It asks
// to be claimed (main.ts), so it too works offline without a second visit.
self.addEventListener("message", (event) => {
  if (event.data === "claim") event.waitUntil(self.clients.claim());
});

self.addEventListener("fetch", (event) => {
  const req = event.request;
  if (req.method !== "GET") return;
  const url = new URL(req.url);
  if (url.origin !== location.origin || API.test(url.pathname)) return;
  if (url.pathname.startsWith("/assets/")) {
    // Hashed file names: cache first.
    event.respondWith(
      caches.match(req).then(
        (hit) =>
          hit ||
          fetch(req).then((res) => {
            if (res.ok) {
              const copy = res.clone();
              caches.open(CACHE).then((c) => c.put(req, copy));
            }
            return res;
          }),
      ),
    );
    return;
  }
  if (req.mode === "navigate") {
    // Network first for pages (always the newest UI), the cached shell when offline.
    event.respondWith(
      fetch(req)
        .then((res) => {
          if (res.ok) {
            const copy = res.clone();
            caches.open(CACHE).then((c) => c.put("/", copy));
          }
          return res;
        })
        .catch(() => caches.match("/").then((hit) => hit || Response.error())),
    );
  }
});
