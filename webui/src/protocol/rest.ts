/**
 * REST bodies and replies (docs/protocol.md §4) as TypeScript types, one per server Struct. A Python
 * test (tests/web/test_wire_types.py) compares them with the server's msgspec Structs field by
 * field, so the two sides cannot drift: a field is optional here exactly when the Struct gives it
 * a default, and a reply whose Struct omits default values has no `| null` on those fields.
 */
import type { Role } from "./messages";

export type { Role };
export type GrantRole = "editor" | "viewer";
/** A role a grant gives (a public link or an invitation by address cannot make a commenter). */
export type ShareRole = "editor" | "commenter" | "viewer";

// --- bodies --------------------------------------------------------------------------------

export interface RegisterBody {
  email: string;
  password: string;
  name?: string | null;
}
export interface LoginBody {
  email: string;
  password: string;
}
export interface RefreshBody {
  refresh_token: string;
}
export interface LogoutBody {
  refresh_token?: string | null;
}
export interface PasswordBody {
  current_password: string;
  new_password: string;
}
export interface TitleBody {
  title: string;
}
export interface NameBody {
  name: string;
}
/** Exactly one of `email` (anyone, by address) and `user_id` (a co-collaborator). */
export interface ShareBody {
  email?: string | null;
  user_id?: string | null;
  role: ShareRole;
}
/** A co-collaborator suggested by the people picker (`GET /people/suggest`): never an address. */
export interface Person {
  id: string;
  name: string;
}
export interface PublicSharingBody {
  enabled: boolean;
  role?: GrantRole;
}
export interface LabelBody {
  label: string;
}
export interface SelectBody {
  word: string;
  position?: number | null;
}

// --- replies -------------------------------------------------------------------------------

export interface User {
  id: string;
  email: string;
  name: string;
  created_at: string;
  /** Administers this server (the administration pages). */
  is_admin?: boolean;
  /** Signs in with a password (false: single sign-on only). */
  has_password?: boolean;
}

export interface Tokens {
  access_token: string;
  refresh_token: string;
  token_type?: string;
  expires_in?: number;
}

export interface AuthReply extends Tokens {
  user: User;
}

export interface DocumentInfo {
  id: string;
  title: string;
  role: Role;
  owner_id: string;
  seq: number;
  public_sharing_enabled: boolean;
  public_sharing_role: GrantRole;
  created_at: string;
  updated_at: string;
}

/** A row of the document list (`GET /documents`). */
export interface DocumentListItem extends DocumentInfo {
  /** The owner's display name. */
  owner_name: string;
  /** Who made the newest committed edit ("Guest" for a public-link guest); null: never edited. */
  last_edited_by: string | null;
}

/** One document with its text (`GET /documents/{id}`). */
export interface DocumentDetail extends DocumentInfo {
  text?: string;
  length?: number;
}

export interface Collaborator {
  /** null for a pending invitation (an address without an account). */
  user_id: string | null;
  /** Only the owner and editors see addresses; null for everyone else. */
  email: string | null;
  /** "" for a pending invitation. */
  name: string;
  role: Role;
  pending: boolean;
  invitation_id?: string;
  expires_at?: string;
  invited_by?: string;
  /** Only in the reply to a share that created an invitation: the link to send. */
  invite_url?: string;
  emailed?: boolean;
}

export interface InvitationInfo {
  doc_title: string;
  role: GrantRole;
  invited_by_name: string;
  expires_at: string;
}

export interface Accepted {
  doc_id: string;
  role: Role;
}

/** The owner's view of the public link (`/documents/{id}/share/public`). */
export interface PublicSharing extends DocumentInfo {
  link_token?: string | null;
  /** The page to share: `/d/{id}#link={token}`. */
  link_path?: string | null;
}

export interface Version {
  version: number;
  seq: number;
  kind: "auto" | "named";
  length: number;
  created_at: string;
  author?: string;
  label?: string;
}

export interface VersionText {
  version: number;
  seq: number;
  text: string;
  label?: string | null;
}

export interface Restored {
  restored: number;
  seq: number;
  undo_version?: number;
}

/** One entry of a document's recent edits (`GET /documents/{id}/history`). */
export interface HistoryEntry {
  seq: number;
  author: string;
  user_name: string;
  kind: string;
  text: string;
  position: number;
  length: number;
  created_at: string;
}

/** A word (ghost text) or a collaborator's name (@mentions), most frequent first. */
export interface WordSuggestion {
  word: string;
  frequency: number;
}

/** A document title the person can open (`GET /suggest/titles`). */
export interface TitleSuggestion {
  word: string;
  frequency: number;
  doc_id: string;
  /** The matched word prefix: [start, end) UTF-16 offsets into `word` (the title). */
  match: [number, number];
}

/** The data of an `event: documents` message of `GET /events`: the caller's list changed. */
export interface ListChange {
  kind: "shared" | "unshared" | "renamed" | "deleted";
  doc_id: string;
}

/** Any suggestion the UI shows. */
export type Suggestion = WordSuggestion | TitleSuggestion;

// --- single sign-on ---

/** The single sign-on provider: its name on the button. */
export interface OidcProvider {
  name: string;
}

/** How one may sign in here (`GET /auth/providers`): `password` false means single sign-on only. */
export interface Providers {
  oidc: OidcProvider | null;
  password: boolean;
}

// --- audit log ---

/** One audit entry: who (as they were then), did what, on what, when, from where. */
export interface AuditEntry {
  id: number;
  at: string;
  action: string;
  actor_id: string | null;
  /** Empty in a document's activity (its owner sees names, not addresses). */
  actor_email: string;
  actor_name: string;
  ip: string | null;
  doc_id: string | null;
  doc_title: string;
  subject_id: string | null;
  subject_name: string;
  detail: Record<string, string>;
}

/** A page of entries, newest first; `next_before` asks for the next page (null: no more). */
export interface AuditPage {
  entries: AuditEntry[];
  next_before: number | null;
}

// --- password reset and API tokens ---

/** `POST /auth/password-reset`: "Forgot password?". */
export interface ResetRequestBody {
  email: string;
}

/** What the server answers to any reset request (the same for every address). */
export interface ResetRequested {
  /** Whether this server e-mails links (otherwise an administrator issues them). */
  emailed: boolean;
  message: string;
}

/** `POST /auth/password-reset/confirm`: use a reset link. */
export interface ResetConfirmBody {
  token: string;
  password: string;
}

/** An administrator's one-time reset link. */
export interface ResetLink {
  link: string;
  expires_at: string;
}

export type TokenScope = "read" | "read-write";

/** `POST /auth/tokens`. */
export interface TokenBody {
  name: string;
  scope: TokenScope;
  /** Days until it expires; null: never. */
  expires_in_days?: number | null;
}

/** A personal API token as listed (never its secret). */
export interface ApiTokenInfo {
  id: string;
  name: string;
  scope: TokenScope;
  created_at: string;
  expires_at: string | null;
  last_used_at: string | null;
}

/** A new token with its secret, shown this once. */
export interface NewApiToken {
  token: ApiTokenInfo;
  secret: string;
}

// --- import ---

/** `POST /documents/import`: a .txt or .md file; the reply is a `DocumentOut`. */
export interface ImportBody {
  /** The file's name (its extension decides: .txt or .md). */
  name: string;
  /** The file's bytes, base64-encoded. */
  data: string;
}

// --- trash, transfer, leave, duplicate ---

/** A document in the caller's trash (`GET /trash`). */
export interface TrashItem {
  id: string;
  title: string;
  created_at: string;
  updated_at: string;
  /** When it was moved to the trash ... */
  deleted_at: string;
  /** ... and when it will be deleted for good. */
  purge_at: string;
}

/** How many documents `DELETE /trash` deleted for good. */
export interface TrashEmptied {
  purged: number;
}

/** `POST /documents/{id}/transfer`: who becomes the owner. */
export interface TransferBody {
  user_id: string;
}

// --- administration ---------------------------------------------------------------------------

export type SignupPolicyName = "open" | "invite-only" | "closed";

/** `GET /auth/signup`: whether accounts can be created here (public). */
export interface SignupInfo {
  policy: SignupPolicyName;
  first_account: boolean;
}
/** `GET /auth/signup/invitations/{token}`: the address a server invitation invites. */
export interface SignupInvitation {
  email: string;
  expires_at: string;
}
/** `DELETE /auth/me`. */
export interface DeleteAccountBody {
  documents: "transfer" | "delete";
  /** The current password; an account without one (single sign-on) sends `confirm_email`. */
  password?: string | null;
  confirm_email?: string | null;
  transfer_to?: string | null;
}
/** A row of `GET /admin/users`. */
export interface AdminUser {
  id: string;
  email: string;
  name: string;
  created_at: string;
  is_admin: boolean;
  disabled: boolean;
  documents: number;
  last_sign_in: string | null;
}
export interface UsersPage {
  users: AdminUser[];
  total: number;
  offset: number;
  limit: number;
}
/** `PATCH /admin/users/{id}`: a field left out is not changed. */
export interface UserChangeBody {
  is_admin?: boolean | null;
  disabled?: boolean | null;
}
/** `DELETE /admin/users/{id}`. */
export interface DeleteUserBody {
  documents: "transfer" | "delete";
  transfer_to?: string | null;
}
export interface ServerInvitationBody {
  email: string;
}
/** A server invitation; `url` only in the reply that created it (shown once). */
export interface ServerInvitation {
  id: string;
  email: string;
  created_by: string;
  created_at: string;
  expires_at: string;
  url?: string;
}
export interface SignupPolicy {
  policy: SignupPolicyName;
  configured: SignupPolicyName;
  overridden: boolean;
}
/** `PUT /admin/signup-policy`: null goes back to the server's setting. */
export interface SignupPolicyBody {
  policy: SignupPolicyName | null;
}
export interface AdminOverview {
  version: string;
  storage: "SQLite" | "PostgreSQL";
  redis: string;
  users: number;
  documents: number;
  open_documents: number;
}

// --- notifications ---------------------------------------------------------------------------
export type NotificationKind = "mention" | "comment_mention" | "reply" | "share";
export type DigestFrequency = "off" | "daily" | "weekly";
/** One notification: `detail` holds `role` (share), `position` (a mention in the text), or
 * `comment_id`, `thread_id` and `excerpt` (comments). */
export interface NotificationItem {
  id: number;
  kind: NotificationKind;
  doc_id: string;
  doc_title: string;
  actor_id: string | null;
  actor_name: string;
  detail: Record<string, string>;
  created_at: string;
  read: boolean;
}
/** `GET /notifications`: newest first; `next_before` asks for the next page (null: no more). */
export interface NotificationsPage {
  notifications: NotificationItem[];
  unread: number;
  next_before: number | null;
}
/** The data of `event: notification` on `GET /events`. */
export interface NotificationEvent {
  kind: "new" | "read";
  unread: number;
  notification?: NotificationItem | null;
  ids?: number[] | null;
}
/** `POST /notifications/read`: some ids, or `all: true`. */
export interface NotificationReadBody {
  ids?: number[] | null;
  all?: boolean;
}
export interface NotificationsRead {
  marked: number;
  unread: number;
}
export interface DigestBody {
  digest: DigestFrequency;
}
/** `email`: whether this server can send mail at all. */
export interface NotificationSettings {
  digest: DigestFrequency;
  email: boolean;
}

// --- full-text search ---------------------------------------------------------------------------
/** A document found by `GET /search`: ranges are [start, end) UTF-16 offsets (plain text, never HTML). */
export interface SearchResult {
  id: string;
  title: string;
  role: Role;
  updated_at: string;
  title_matches: [number, number][];
  snippet: string;
  matches: [number, number][];
}
export interface SearchPage {
  results: SearchResult[];
  offset: number;
  next_offset: number | null;
}

// --- history: sessions, the text at a seq, the authors of replicas -----------------------------
/** One person's run of edits without a two-minute pause, grouped by the server. */
export interface EditSession {
  author: string;
  user_name: string;
  first_seq: number;
  last_seq: number;
  started_at: string;
  ended_at: string;
  inserted: number;
  deleted: number;
  edits: number;
}
/** `GET /documents/{id}/sessions`: `next` is `before` for the next (older) page; null: none. */
export interface SessionsPage {
  sessions: EditSession[];
  next: number | null;
}
/** `GET /documents/{id}/text?seq`: the text once the edit `seq` was applied. */
export interface TextAt {
  seq: number;
  text: string;
}
/** `GET /documents/{id}/authors`: whose each replica that wrote to the document is. */
export interface ReplicaAuthor {
  replica: string;
  user_id: string;
  user_name: string;
}
