/**
 * "Make owner" (the owner's role menu of a collaborator in the share dialog): after a
 * confirmation, the person becomes the owner and the current owner keeps editing rights. Only
 * registered people can own a document; the server refuses anyone else.
 */
import type { Api } from "../../api";
import { confirmDialog, toast } from "../dom";
import { transferOwnership } from "../trash/api";
import { errorText } from "./util";

/** The role menu's value for "Make owner". */
export const MAKE_OWNER = "owner";

/** Ask, then hand the document over; resolves whether it was handed over. */
export async function makeOwner(api: Api, docId: string, userId: string, name: string): Promise<boolean> {
  const ok = await confirmDialog(
    `Make ${name} the owner?`,
    `${name} will own this document: they can share it, remove people, and move it to the trash. You will keep editing rights, and only ${name} can make you the owner again.`,
    "Make owner",
    true,
  );
  if (!ok) return false;
  try {
    await transferOwnership(api, docId, userId);
    toast(`${name} is now the owner; you can still edit.`);
    return true;
  } catch (exc) {
    toast(errorText(exc), "error");
    return false;
  }
}
