/** The administration endpoints (`/admin/...`), the sign-up policy and deleting one's account. */
import type { Api } from "../../api";
import type {
  AdminOverview,
  AdminUser,
  DeleteAccountBody,
  DeleteUserBody,
  ResetLink,
  ServerInvitation,
  ServerInvitationBody,
  SignupInfo,
  SignupInvitation,
  SignupPolicy,
  SignupPolicyBody,
  SignupPolicyName,
  UserChangeBody,
  UsersPage,
} from "../../protocol/rest";

const user = (id: string): string => `/admin/users/${encodeURIComponent(id)}`;

export function signupInfo(api: Api): Promise<SignupInfo> {
  return api.request("GET", "/auth/signup");
}

export function signupInvitation(api: Api, token: string): Promise<SignupInvitation> {
  return api.request("GET", `/auth/signup/invitations/${encodeURIComponent(token)}`);
}

export function overview(api: Api): Promise<AdminOverview> {
  return api.request("GET", "/admin/overview");
}

export function listUsers(api: Api, q: string, offset: number, limit: number): Promise<UsersPage> {
  const query = new URLSearchParams({ q, offset: String(offset), limit: String(limit) });
  return api.request("GET", `/admin/users?${query.toString()}`);
}

export function changeUser(api: Api, id: string, body: UserChangeBody): Promise<AdminUser> {
  return api.request("PATCH", user(id), body);
}

export function deleteUser(api: Api, id: string, body: DeleteUserBody): Promise<void> {
  return api.request("DELETE", user(id), body);
}

export function passwordResetLink(api: Api, id: string): Promise<ResetLink> {
  return api.request("POST", `${user(id)}/password-reset`, {});
}

export function invitations(api: Api): Promise<ServerInvitation[]> {
  return api.request("GET", "/admin/invitations");
}

export function invite(api: Api, email: string): Promise<ServerInvitation> {
  return api.request("POST", "/admin/invitations", { email } satisfies ServerInvitationBody);
}

export function revokeInvitation(api: Api, id: string): Promise<void> {
  return api.request("DELETE", `/admin/invitations/${encodeURIComponent(id)}`);
}

export function signupPolicy(api: Api): Promise<SignupPolicy> {
  return api.request("GET", "/admin/signup-policy");
}

export function setSignupPolicy(api: Api, policy: SignupPolicyName | null): Promise<SignupPolicy> {
  return api.request("PUT", "/admin/signup-policy", { policy } satisfies SignupPolicyBody);
}

export function deleteMyAccount(api: Api, body: DeleteAccountBody): Promise<void> {
  return api.request("DELETE", "/auth/me", body);
}
