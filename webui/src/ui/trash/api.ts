/** The REST calls of the trash, transfer of ownership, leaving and duplicating (docs/protocol.md). */
import type { Api } from "../../api";
import type { DocumentInfo, TransferBody, TrashEmptied, TrashItem } from "../../protocol/rest";

const doc = (id: string): string => `/documents/${encodeURIComponent(id)}`;

export function listTrash(api: Api): Promise<TrashItem[]> {
  return api.request("GET", "/trash");
}

export function restoreDocument(api: Api, id: string): Promise<DocumentInfo> {
  return api.request("POST", `/trash/${encodeURIComponent(id)}/restore`);
}

export function purgeDocument(api: Api, id: string): Promise<void> {
  return api.request("DELETE", `/trash/${encodeURIComponent(id)}`);
}

export function emptyTrash(api: Api): Promise<TrashEmptied> {
  return api.request("DELETE", "/trash");
}

export function transferOwnership(api: Api, id: string, userId: string): Promise<DocumentInfo> {
  return api.request("POST", `${doc(id)}/transfer`, { user_id: userId } satisfies TransferBody);
}

export function leaveDocument(api: Api, id: string): Promise<void> {
  return api.request("DELETE", `${doc(id)}/access/me`);
}

export function duplicateDocument(api: Api, id: string): Promise<DocumentInfo> {
  return api.request("POST", `${doc(id)}/duplicate`);
}
