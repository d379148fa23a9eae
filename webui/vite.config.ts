import { defineConfig } from "vitest/config";

const backend = process.env["DOCSTREAM_DEV_BACKEND"] ?? "http://127.0.0.1:8000";
const api = ["/auth", "/documents", "/suggest", "/health", "/schema", "/invitations"];

export default defineConfig({
  build: {
    outDir: "../docstream/web/static",
    emptyOutDir: true,
    target: "es2022",
    sourcemap: false,
    reportCompressedSize: true,
  },
  // The Markdown preview's parser runs in a module worker.
  worker: { format: "es" },
  server: {
    proxy: {
      ...Object.fromEntries(api.map((p) => [p, { target: backend, changeOrigin: false }])),
      "/ws": { target: backend.replace(/^http/, "ws"), ws: true, changeOrigin: false },
    },
  },
  test: {
    include: ["test/**/*.test.ts"],
    environment: "node",
    testTimeout: 60_000,
  },
});
