/** The transport with fake sockets and fake-indexeddb: hello, resend, backoff, offline queue. */
import "fake-indexeddb/auto";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { Document, encodeState, toBase64 } from "../../src/engine";
import { LiveDocument, type SocketLike } from "../../src/protocol/live";
import { claimReplica } from "../../src/protocol/open";
import { ClientSession } from "../../src/protocol/session";
import { OfflineStore } from "../../src/protocol/store";

class FakeSocket implements SocketLike {
  readyState = 0;
  sent: unknown[] = [];
  onopen: ((ev: unknown) => void) | null = null;
  onmessage: ((ev: { data: unknown }) => void) | null = null;
  onclose: ((ev: { code: number; reason: string }) => void) | null = null;
  onerror: ((ev: unknown) => void) | null = null;
  open(): void {
    this.readyState = 1;
    this.onopen?.({});
  }
  send(data: string): void {
    this.sent.push(JSON.parse(data));
  }
  receive(frame: object): void {
    this.onmessage?.({ data: JSON.stringify(frame) });
  }
  close(code = 1000, reason = ""): void {
    this.readyState = 3;
    this.onclose?.({ code, reason });
  }
}

const user = { id: "u1", name: "Ada", color: "#E02424" };
const welcome = (seq: number, extra: object = {}) => ({
  type: "welcome",
  doc_id: "d",
  seq,
  role: "editor",
  user,
  peers: [],
  ops: [],
  ...extra,
});

describe("LiveDocument", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it("says hello, re-sends pending messages after welcome and reports saved only after the acks", () => {
    const sockets: FakeSocket[] = [];
    const states: [string, boolean][] = [];
    const session = new ClientSession("replicaA");
    const live = new LiveDocument({
      docId: "d",
      userId: "u1",
      session,
      url: () => "ws://x/ws/document/d",
      makeSocket: () => {
        const s = new FakeSocket();
        sockets.push(s);
        return s;
      },
      callbacks: { status: (st, saved) => states.push([st, saved]) },
    });
    live.insert(0, "offline");
    live.start();
    const ws = sockets[0]!;
    ws.open();
    expect(ws.sent).toEqual([{ type: "hello", replica: "replicaA", since: 0, batch: true }]);
    ws.receive(welcome(0));
    expect(ws.sent[1]).toEqual({
      type: "ops",
      ref: 1,
      ops: [{ kind: "ins", id: "replicaA:1", after: null, text: "offline" }],
    });
    expect(live.saved).toBe(false);
    ws.receive({ type: "ack", ref: 1, seq: 1 });
    expect(live.saved).toBe(true);
    expect(states.at(-1)).toEqual(["live", true]);

    // lost connection: reconnect with backoff, hello with since, edits made meanwhile re-sent
    ws.close(1006, "");
    expect(live.state).toBe("reconnecting");
    live.replace16([{ from16: 7, to16: 7, text: " 😀" }]);
    vi.advanceTimersByTime(20_000);
    const ws2 = sockets[1]!;
    ws2.open();
    expect(ws2.sent[0]).toEqual({ type: "hello", replica: "replicaA", since: 1, batch: true });
    ws2.receive(welcome(1));
    expect(ws2.sent[1]).toMatchObject({ type: "ops", ref: 2 });
    expect(session.doc.text).toBe("offline 😀");
  });

  it("stops for good when access is revoked", () => {
    const sockets: FakeSocket[] = [];
    let closed = 0;
    const live = new LiveDocument({
      docId: "d",
      userId: "u1",
      session: new ClientSession("replicaA"),
      url: () => "ws://x",
      makeSocket: () => {
        const s = new FakeSocket();
        sockets.push(s);
        return s;
      },
      callbacks: { closed: (code) => (closed = code) },
    });
    live.start();
    sockets[0]!.open();
    sockets[0]!.close(4403, "access revoked");
    vi.advanceTimersByTime(60_000);
    expect(sockets.length).toBe(1);
    expect(live.state).toBe("closed");
    expect(closed).toBe(4403);
  });

  it("refreshes the token after 4401 (expired or signed out) and re-sends unacknowledged edits", async () => {
    const sockets: FakeSocket[] = [];
    let refreshes = 0;
    const session = new ClientSession("replicaA");
    const live = new LiveDocument({
      docId: "d",
      userId: "u1",
      session,
      url: () => "ws://x",
      refreshAuth: () => {
        refreshes++;
        return Promise.resolve(true);
      },
      makeSocket: () => {
        const s = new FakeSocket();
        sockets.push(s);
        return s;
      },
      callbacks: {},
    });
    live.start();
    sockets[0]!.open();
    sockets[0]!.receive(welcome(0));
    live.insert(0, "typed before the token expired");
    sockets[0]!.close(4401, "the access token expired; refresh it");
    await vi.advanceTimersByTimeAsync(20_000);
    expect(refreshes).toBe(1);
    const ws2 = sockets[1]!;
    ws2.open();
    ws2.receive(welcome(0));
    expect(ws2.sent[1]).toMatchObject({ type: "ops", ref: 1 });
    expect(live.state).toBe("live");
  });

  it("stops, keeping its edits, when the session cannot be refreshed", async () => {
    const sockets: FakeSocket[] = [];
    const session = new ClientSession("replicaA");
    let closed = 0;
    const live = new LiveDocument({
      docId: "d",
      userId: "u1",
      session,
      url: () => "ws://x",
      refreshAuth: () => Promise.resolve(false),
      makeSocket: () => {
        const s = new FakeSocket();
        sockets.push(s);
        return s;
      },
      callbacks: { closed: (code) => (closed = code) },
    });
    live.start();
    sockets[0]!.open();
    sockets[0]!.receive(welcome(0));
    live.insert(0, "kept");
    sockets[0]!.close(4401, "this session was signed out");
    await vi.advanceTimersByTimeAsync(20_000);
    expect(sockets.length).toBe(1);
    expect(closed).toBe(4401);
    expect(session.pending.size).toBe(1);
  });

  it("resynchronises from a full state after an edit is refused for good", () => {
    const sockets: FakeSocket[] = [];
    const session = new ClientSession("replicaA");
    const live = new LiveDocument({
      docId: "d",
      userId: "u1",
      session,
      url: () => "ws://x",
      makeSocket: () => {
        const s = new FakeSocket();
        sockets.push(s);
        return s;
      },
      callbacks: {},
    });
    live.start();
    sockets[0]!.open();
    sockets[0]!.receive(welcome(3));
    live.insert(0, "nope");
    sockets[0]!.receive({ type: "error", code: "read_only", message: "viewers cannot edit", ref: 1 });
    vi.advanceTimersByTime(1000);
    const ws2 = sockets[1]!;
    ws2.open();
    expect(ws2.sent[0]).toEqual({ type: "hello", replica: "replicaA", since: 0, batch: true });
    const server = new Document("serverrep");
    server.insert(0, "truth");
    ws2.receive(welcome(3, { ops: undefined, state: toBase64(encodeState(server)) }));
    expect(session.doc.text).toBe("truth");
  });
});

describe("the offline queue", () => {
  it("restores unsynced edits with their replica id after a reload, and cleans up once synced", async () => {
    const store = (await OfflineStore.open())!;
    const first = await claimReplica(store, "doc1", "u1");
    const replica = first.session.replica;
    const sockets: FakeSocket[] = [];
    const live = new LiveDocument({
      docId: "doc1",
      userId: "u1",
      session: first.session,
      store,
      url: () => "ws://x",
      makeSocket: () => {
        const s = new FakeSocket();
        sockets.push(s);
        return s;
      },
      callbacks: {},
      snapshotDelay: 0,
    });
    live.insert(0, "typed offline ");
    live.insert(14, "🎉");
    await live.persisted();
    // "reload": the tab is gone (its lock is released), a new page opens the document
    first.release();
    const second = await claimReplica(store, "doc1", "u1");
    expect(second.session.replica).toBe(replica);
    expect(second.restored).toBe(true);
    expect(second.session.doc.text).toBe("typed offline 🎉");
    expect([...second.session.pending.keys()]).toEqual([1, 2]);
    expect(second.session.nextRef).toBe(3);

    const s2: FakeSocket[] = [];
    const live2 = new LiveDocument({
      docId: "doc1",
      userId: "u1",
      session: second.session,
      store,
      url: () => "ws://x",
      makeSocket: () => {
        const s = new FakeSocket();
        s2.push(s);
        return s;
      },
      callbacks: {},
      snapshotDelay: 0,
    });
    live2.start();
    s2[0]!.open();
    s2[0]!.receive(welcome(0));
    expect(s2[0]!.sent.slice(1).map((f) => (f as { ref: number }).ref)).toEqual([1, 2]);
    s2[0]!.receive({ type: "ack", ref: 1, seq: 1 });
    s2[0]!.receive({ type: "ack", ref: 2, seq: 2 });
    await live2.flushSnapshot();
    expect(await store.countPending("u1")).toBe(0);
    await live2.stop();
    second.release();
    // a third session gets a fresh replica but starts from the cached state
    const third = await claimReplica(store, "doc1", "u1");
    expect(third.session.replica).not.toBe(replica);
    expect(third.session.doc.text).toBe("typed offline 🎉");
    expect(third.session.since).toBe(2);
    // another user's data is never used
    const other = await claimReplica(store, "doc1", "u2");
    expect(other.session.doc.text).toBe("");
    store.close();
  });
});
