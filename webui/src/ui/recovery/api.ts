/** REST calls of password reset and personal API tokens (see docs/accounts.md). */
import type { Api } from "../../api";
import type {
  ApiTokenInfo,
  AuthReply,
  NewApiToken,
  ResetConfirmBody,
  ResetRequestBody,
  ResetRequested,
  TokenBody,
} from "../../protocol/rest";

/** Whether this server e-mails reset links, and what to tell the person. */
export function resetPolicy(api: Api): Promise<ResetRequested> {
  return api.request("GET", "/auth/password-reset");
}

/** "Forgot password?": the same answer whatever the address. */
export function requestReset(api: Api, email: string): Promise<ResetRequested> {
  return api.request("POST", "/auth/password-reset", { email } satisfies ResetRequestBody);
}

/** Use a reset link; on success this browser is signed in with the new password. */
export async function confirmReset(api: Api, token: string, password: string): Promise<void> {
  const reply = await api.request<AuthReply>(
    "POST",
    "/auth/password-reset/confirm",
    { token, password } satisfies ResetConfirmBody,
    false,
  );
  await api.adopt(reply);
}

export function listTokens(api: Api): Promise<ApiTokenInfo[]> {
  return api.request("GET", "/auth/tokens");
}

export function createToken(api: Api, body: TokenBody): Promise<NewApiToken> {
  return api.request("POST", "/auth/tokens", body);
}

export function revokeToken(api: Api, id: string): Promise<void> {
  return api.request("DELETE", `/auth/tokens/${encodeURIComponent(id)}`);
}
