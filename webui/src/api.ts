/**
 * REST access (docs/protocol.md §4) and the signed-in session.
 *
 * Tokens: the access token lives in memory (and in the server's HttpOnly cookie, which the
 * WebSocket uses); the refresh token in IndexedDB (copied to localStorage, tokens.ts) so a
 * reload stays signed in. The access
 * token is refreshed silently before it expires and, once, after any 401. The user is cached in
 * localStorage so that a reload while offline can still open documents from the offline queue.
 *
 * A refresh token works once (the server rotates it and signs the whole session out when a used
 * one comes back). Every tab of this origin shares the stored token, so refreshes are serialised
 * across tabs (`withRefreshLock`: Web Locks, or an IndexedDB lease where they are missing) and
 * the token is re-read after the lock is taken: a tab that waited uses the token the previous
 * tab stored, never the one it saw before waiting (tokens.ts: why IndexedDB holds it).
 */

import type {
  Accepted,
  AuthReply,
  Collaborator,
  DocumentDetail,
  DocumentInfo,
  DocumentListItem,
  GrantRole,
  HistoryEntry,
  InvitationInfo,
  LabelBody,
  LoginBody,
  LogoutBody,
  NameBody,
  PasswordBody,
  Person,
  PublicSharing,
  PublicSharingBody,
  RefreshBody,
  RegisterBody,
  Restored,
  SelectBody,
  ShareBody,
  ShareRole,
  TitleBody,
  TitleSuggestion,
  Tokens,
  User,
  Version,
  VersionText,
  WordSuggestion,
} from "./protocol/rest";
import { hasRefreshToken, readRefreshToken, withRefreshLock, writeRefreshToken } from "./tokens";

export { withRefreshLock };
export type * from "./protocol/rest";

/** How a person is shown: their name, else (owners and editors) the address, else a placeholder. */
export function displayName(c: Pick<Collaborator, "name" | "email" | "pending">): string {
  return c.name || c.email || (c.pending ? "Invited user" : "Unnamed");
}

/** A REST error reply: `{"error": {"code", "message", "details"?}}`. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

/** The network is unreachable (offline, server down). */
export class NetworkError extends Error {
  constructor(message = "The server cannot be reached.") {
    super(message);
    this.name = "NetworkError";
  }
}

/** The header that carries a document's public link token (never the URL: logs keep URLs). */
const LINK_HEADER = "X-DocStream-Link";
const USER_KEY = "docstream.user";

export class Api {
  user: User | null = null;
  /** True when signed in from the cache only (the server could not be reached). */
  offline = false;
  private access: string | null = null;
  private refreshTimer: ReturnType<typeof setTimeout> | null = null;
  private refreshing: Promise<boolean> | null = null;
  private listeners = new Set<(user: User | null) => void>();
  /** Public link tokens by document id (from a `/d/{id}#link=...` page address). */
  private links = new Map<string, string>();

  constructor(private readonly base = "") {}

  /** Remember a document's public link token: sent with every request about that document. */
  useLink(docId: string, token: string): void {
    this.links.set(docId, token);
  }

  linkFor(docId: string): string | null {
    return this.links.get(docId) ?? null;
  }

  private linkHeader(path: string): Record<string, string> {
    const m = /^\/documents\/([^/?]+)/.exec(path);
    const token = m ? this.links.get(decodeURIComponent(m[1]!)) : undefined;
    return token ? { [LINK_HEADER]: token } : {};
  }

  onUser(fn: (user: User | null) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  private setUser(user: User | null): void {
    this.user = user;
    if (user) localStorage.setItem(USER_KEY, JSON.stringify(user));
    else localStorage.removeItem(USER_KEY);
    for (const fn of this.listeners) fn(user);
  }

  // --- transport -----------------------------------------------------------------------------

  async request<T>(method: string, path: string, body?: unknown, retry = true): Promise<T> {
    const headers: Record<string, string> = { Accept: "application/json", ...this.linkHeader(path) };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    if (this.access) headers["Authorization"] = `Bearer ${this.access}`;
    // Offline: fail fast without a request (and without the browser's console noise).
    if (typeof navigator !== "undefined" && navigator.onLine === false) throw new NetworkError();
    let res: Response;
    try {
      res = await fetch(this.base + path, {
        method,
        headers,
        body: body === undefined ? null : JSON.stringify(body),
        credentials: "same-origin",
      });
    } catch {
      throw new NetworkError();
    }
    if (res.status === 401 && retry && hasRefreshToken() && !path.startsWith("/auth/")) {
      if (await this.refresh()) return this.request<T>(method, path, body, false);
    }
    if (!res.ok) {
      let code = "HTTP_ERROR";
      let message = `${res.status} ${res.statusText}`;
      let details: unknown;
      try {
        const err = ((await res.json()) as { error?: { code?: string; message?: string; details?: unknown } }).error;
        if (err?.code) code = err.code;
        if (err?.message) message = err.message;
        details = err?.details;
      } catch {
        /* not JSON */
      }
      throw new ApiError(res.status, code, message, details);
    }
    if (res.status === 204) return undefined as T;
    const type = res.headers.get("content-type") ?? "";
    if (!type.includes("json")) return (await res.text()) as T;
    return (await res.json()) as T;
  }

  get<T>(path: string): Promise<T> {
    return this.request<T>("GET", path);
  }

  // --- auth ----------------------------------------------------------------------------------

  /** Keep new tokens; resolves once the refresh token is stored for every tab. */
  private take(reply: Tokens): Promise<void> {
    this.access = reply.access_token;
    this.offline = false;
    if (this.refreshTimer !== null) clearTimeout(this.refreshTimer);
    const ttl = Math.max(30, reply.expires_in ?? 900);
    this.refreshTimer = setTimeout(() => void this.refresh(), ttl * 800);
    return writeRefreshToken(reply.refresh_token);
  }

  async register(email: string, password: string, name: string): Promise<User> {
    const reply = await this.request<AuthReply>("POST", "/auth/register", {
      email,
      password,
      name: name || null,
    } satisfies RegisterBody);
    await withRefreshLock(() => this.take(reply));
    this.setUser(reply.user);
    return reply.user;
  }

  async login(email: string, password: string): Promise<User> {
    const reply = await this.request<AuthReply>("POST", "/auth/login", { email, password } satisfies LoginBody);
    await withRefreshLock(() => this.take(reply));
    this.setUser(reply.user);
    return reply.user;
  }

  /** Take the tokens of a sign-in made elsewhere (single sign-on, a password reset link). */
  async adopt(reply: AuthReply): Promise<User> {
    await withRefreshLock(() => this.take(reply));
    this.setUser(reply.user);
    return reply.user;
  }

  /** Get a new access token (and cookie) with the refresh token; false if signed out. */
  refresh(): Promise<boolean> {
    if (this.refreshing) return this.refreshing;
    if (!hasRefreshToken()) return Promise.resolve(false);
    this.refreshing = (async () => {
      try {
        await this.rotate();
        return true;
      } catch (exc) {
        if (exc instanceof NetworkError) {
          // Try again in a while; the session is not over.
          if (this.refreshTimer !== null) clearTimeout(this.refreshTimer);
          this.refreshTimer = setTimeout(() => void this.refresh(), 15_000);
          return false;
        }
        this.forget();
        return false;
      } finally {
        this.refreshing = null;
      }
    })();
    return this.refreshing;
  }

  /**
   * Swap the stored refresh token for new tokens, holding the cross-tab lock. The token is read
   * after the lock is taken (another tab may have swapped it while this one waited). A refused
   * token is removed from storage only if it is still the stored one (another tab may have
   * signed in again meanwhile).
   */
  private rotate(): Promise<void> {
    return withRefreshLock(async () => {
      const token = await readRefreshToken();
      if (!token) throw new ApiError(401, "UNAUTHORIZED", "signed out");
      let reply: Tokens;
      try {
        const body: RefreshBody = { refresh_token: token };
        reply = await this.request<Tokens>("POST", "/auth/refresh", body, false);
      } catch (exc) {
        // Refused: this session is over. (Under the lock nobody else changed the token.)
        if (exc instanceof ApiError) await writeRefreshToken(null);
        throw exc;
      }
      await this.take(reply);
    });
  }

  /** Restore the session at start-up: refresh + me, or the cached user when offline. */
  async resume(): Promise<User | null> {
    if (!hasRefreshToken()) return null;
    try {
      await this.rotate();
      this.setUser(await this.get<User>("/auth/me"));
      return this.user;
    } catch (exc) {
      if (exc instanceof NetworkError) {
        const cached = localStorage.getItem(USER_KEY);
        if (cached) {
          this.offline = true;
          this.user = JSON.parse(cached) as User;
          // Keep trying: once the server answers, the session is live again.
          this.refreshTimer = setTimeout(() => void this.refresh(), 5_000);
          return this.user;
        }
      }
      this.forget();
      return null;
    }
  }

  private forget(): void {
    this.access = null;
    if (this.refreshTimer !== null) clearTimeout(this.refreshTimer);
    this.refreshTimer = null;
    this.setUser(null);
  }

  async logout(): Promise<void> {
    try {
      // Ends this browser's session on the server: its tokens and its open sockets.
      const body: LogoutBody = { refresh_token: await readRefreshToken() };
      await this.request("POST", "/auth/logout", body, false);
    } catch {
      /* the cookie is cleared server-side when reachable; forget locally anyway */
    }
    await writeRefreshToken(null);
    this.forget();
  }

  /** Sign out every session of this user (every device and browser). */
  async logoutAll(): Promise<void> {
    await this.request("POST", "/auth/logout-all", {}, false);
    await writeRefreshToken(null);
    this.forget();
  }

  /** Change the password; other sessions are signed out, this one continues. */
  async changePassword(current: string, next: string): Promise<void> {
    const reply = await withRefreshLock(async () => {
      const r = await this.request<AuthReply>(
        "POST",
        "/auth/password",
        { current_password: current, new_password: next } satisfies PasswordBody,
        false,
      );
      await this.take(r);
      return r;
    });
    this.setUser(reply.user);
  }

  // --- documents -----------------------------------------------------------------------------

  listDocuments(): Promise<DocumentListItem[]> {
    return this.get("/documents");
  }
  createDocument(title: string): Promise<DocumentInfo> {
    return this.request("POST", "/documents", { title } satisfies TitleBody);
  }
  getDocument(id: string): Promise<DocumentDetail> {
    return this.get(`/documents/${encodeURIComponent(id)}`);
  }
  renameDocument(id: string, title: string): Promise<DocumentInfo> {
    return this.request("PATCH", `/documents/${encodeURIComponent(id)}`, { title } satisfies TitleBody);
  }
  deleteDocument(id: string): Promise<void> {
    return this.request("DELETE", `/documents/${encodeURIComponent(id)}`);
  }
  collaborators(id: string): Promise<Collaborator[]> {
    return this.get(`/documents/${encodeURIComponent(id)}/collaborators`);
  }
  share(id: string, email: string, role: ShareRole): Promise<Collaborator> {
    return this.request("POST", `/documents/${encodeURIComponent(id)}/share`, { email, role } satisfies ShareBody);
  }
  /** Share with a co-collaborator picked by id (see `suggestPeople`). */
  shareWith(id: string, userId: string, role: ShareRole): Promise<Collaborator> {
    return this.request("POST", `/documents/${encodeURIComponent(id)}/share`, {
      user_id: userId,
      role,
    } satisfies ShareBody);
  }
  /** People the user works with whose name starts with `q` (ids and names, never addresses). */
  suggestPeople(q: string, limit = 8): Promise<Person[]> {
    return this.get(`/people/suggest?q=${encodeURIComponent(q)}&limit=${limit}`);
  }
  withdrawInvitation(id: string, invitationId: string): Promise<void> {
    return this.request(
      "DELETE",
      `/documents/${encodeURIComponent(id)}/invitations/${encodeURIComponent(invitationId)}`,
    );
  }
  invitation(token: string): Promise<InvitationInfo> {
    return this.get(`/invitations/${encodeURIComponent(token)}`);
  }
  acceptInvitation(token: string): Promise<Accepted> {
    return this.request("POST", `/invitations/${encodeURIComponent(token)}/accept`);
  }
  revoke(id: string, userId: string): Promise<void> {
    return this.request("DELETE", `/documents/${encodeURIComponent(id)}/share/${encodeURIComponent(userId)}`);
  }
  setPublic(id: string, enabled: boolean, role: GrantRole): Promise<PublicSharing> {
    return this.request("POST", `/documents/${encodeURIComponent(id)}/share/public`, {
      enabled,
      role,
    } satisfies PublicSharingBody);
  }
  publicLink(id: string): Promise<PublicSharing> {
    return this.get(`/documents/${encodeURIComponent(id)}/share/public`);
  }
  resetLink(id: string): Promise<PublicSharing> {
    return this.request("POST", `/documents/${encodeURIComponent(id)}/share/public/reset`);
  }
  async renameMe(name: string): Promise<User> {
    const user = await this.request<User>("PATCH", "/auth/me", { name } satisfies NameBody);
    this.setUser(user);
    return user;
  }
  versions(id: string): Promise<Version[]> {
    return this.get(`/documents/${encodeURIComponent(id)}/versions`);
  }
  version(id: string, v: number): Promise<VersionText> {
    return this.get(`/documents/${encodeURIComponent(id)}/versions/${v}`);
  }
  nameVersion(id: string, label: string): Promise<Version> {
    return this.request("POST", `/documents/${encodeURIComponent(id)}/versions`, { label } satisfies LabelBody);
  }
  restore(id: string, v: number): Promise<Restored> {
    return this.request("POST", `/documents/${encodeURIComponent(id)}/versions/${v}/restore`);
  }
  history(id: string, limit = 20): Promise<HistoryEntry[]> {
    return this.get(`/documents/${encodeURIComponent(id)}/history?limit=${limit}`);
  }
  /** The `GET /events` stream of changes to the document list (Server-Sent Events; the cookie
   * signs it in). */
  eventsUrl(): string {
    return `${this.base}/events`;
  }
  exportUrl(id: string, format: "txt" | "md" | "html"): string {
    return `${this.base}/documents/${encodeURIComponent(id)}/export?format=${format}`;
  }
  /** The export as a Blob (the download needs the bearer token, so it is fetched). */
  async exportBlob(id: string, format: "txt" | "md" | "html"): Promise<Blob> {
    const headers: Record<string, string> = { ...this.linkHeader(`/documents/${encodeURIComponent(id)}`) };
    if (this.access) headers["Authorization"] = `Bearer ${this.access}`;
    const res = await fetch(this.exportUrl(id, format), { headers, credentials: "same-origin" });
    if (!res.ok) throw new ApiError(res.status, "HTTP_ERROR", `export failed (${res.status})`);
    return res.blob();
  }

  // --- typeahead (docs/protocol.md §4; 404 until the server has the routes) ---------------------

  suggestTitles(q: string, limit = 8): Promise<TitleSuggestion[]> {
    return this.get(`/suggest/titles?q=${encodeURIComponent(q)}&limit=${limit}`);
  }
  suggestMentions(id: string, q: string, limit = 8): Promise<WordSuggestion[]> {
    return this.get(`/documents/${encodeURIComponent(id)}/mentions/suggest?q=${encodeURIComponent(q)}&limit=${limit}`);
  }
  selectMention(id: string, word: string, position?: number): Promise<WordSuggestion> {
    const body: SelectBody = position === undefined ? { word } : { word, position };
    return this.request("POST", `/documents/${encodeURIComponent(id)}/mentions/select`, body);
  }
  suggestWords(id: string, q: string, limit = 5): Promise<WordSuggestion[]> {
    return this.get(`/documents/${encodeURIComponent(id)}/suggest?q=${encodeURIComponent(q)}&limit=${limit}`);
  }
}
