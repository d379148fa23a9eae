// Hocuspocus, a peer of the collab benchmark: a Server with no extensions, so a document lives in
// memory only and nothing is stored. Every update a client sends is applied to the server's Y.Doc
// and broadcast to every connection of the document, the sender included (which also gets a
// SyncStatus message). Hocuspocus' own listen() passes `address` where Node expects `host` and so
// binds every interface; the HTTP server is started here on the loopback instead (no onListen hooks
// are configured, so nothing is skipped).
// Run: HOST=127.0.0.1 PORT=1234 node hocuspocus.mjs
import { Server } from "@hocuspocus/server";

const host = process.env.HOST || "127.0.0.1";
const port = Number.parseInt(process.env.PORT || "1234", 10);
const server = new Server({ quiet: true });

server.httpServer.listen({ host, port }, () => {
  console.log(`hocuspocus listening on ${host}:${port}`);
});
