// DocStream service worker: keeps the app shell (index.html and the built assets) so the editor
// opens while offline; documents then come from the offline queue in IndexedDB. API calls and
// WebSockets are never cached.
const CACHE = "docstream-shell-v2";
const API = /^\/(auth|documents|suggest|ws|schema|health)(\/|$)/;

self.addEventListener("install", (event) => {
  // The shell and every asset it names, so the first offline reload already works.
  event.waitUntil(
    caches
      .open(CACHE)
      .then(async (cache) => {
        const res = await fetch("/", { cache: "no-store" });
        const html = await res.clone().text();
        await cache.put("/", res);
        // What index.html names, then what those scripts name (the chunks loaded on demand, such
        // as the editor), until nothing new turns up.
        const seen = new Set(html.match(/\/assets\/[^"' )]+/g) || []);
        await cache.addAll([...seen]);
        let batch = [...seen];
        while (batch.length) {
          const named = [];
          for (const path of batch.filter((p) => p.endsWith(".js"))) {
            const text = await (await cache.match(path)).text();
            for (const m of text.matchAll(/(?:assets\/|\.\/)([\w.-]+\.(?:js|css))\b/g)) {
              const asset = `/assets/${m[1]}`;
              if (!seen.has(asset)) named.push(asset);
              seen.add(asset);
            }
          }
          // A name read out of a script may be no file at all: skipped, not fatal.
          await Promise.all(named.map((p) => cache.add(p).catch(() => undefined)));
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
