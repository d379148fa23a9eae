/**
 * Who may type: the role (in `roleField`) and the connection decide the read-only switch, a
 * Compartment reconfigured whenever either changes; the page's bar (role chip, who may rename,
 * share) follows `roleField` through the `onRole` callback (a ViewPlugin reporting outside).
 *
 * Read-only while there is no live document yet, for viewers, once the connection is closed for
 * good, and for a guest whenever not live (a guest has no offline queue to keep edits in).
 */
import { Compartment, EditorState, type Extension } from "@codemirror/state";
import { EditorView, placeholder, ViewPlugin, type PluginValue, type ViewUpdate } from "@codemirror/view";
import type { Role } from "../../protocol/messages";
import { liveOf, roleField, roleOf, setRole } from "./state";

const editability = new Compartment();

/** Read-only or not; "Start typing…" only invites those who can type. */
function readOnly(on: boolean): Extension {
  return [
    EditorState.readOnly.of(on),
    EditorView.contentAttributes.of({ "aria-readonly": on ? "true" : "false" }),
    on ? [] : placeholder("Start typing…"),
  ];
}

class RoleWatch implements PluginValue {
  constructor(private readonly onRole: (role: Role | null) => void) {}
  update(u: ViewUpdate): void {
    // Reported whenever the access is recomputed, not only when the role changes.
    if (u.transactions.some((tr) => tr.effects.some((e) => e.is(setRole)))) this.onRole(roleOf(u.state));
  }
}

/** The role chip's text: none for the owner (it is their document), else what they may do. */
export function roleLabel(role: Role | null): string {
  return role === "viewer" ? "View only" : role === "editor" ? "Editor" : role === "commenter" ? "Commenter" : "";
}

/** Starts read-only with the role known so far (cached from an earlier visit, or null). */
export function access(initialRole: Role | null, onRole: (role: Role | null) => void): Extension {
  return [
    roleField.init(() => initialRole),
    editability.of(readOnly(true)),
    ViewPlugin.define(() => new RoleWatch(onRole)),
  ];
}

/** Recompute the read-only switch and redraw the badge (with the new role, when it changed). */
export function updateAccess(view: EditorView, guest: boolean, role: Role | null = roleOf(view.state)): void {
  const live = liveOf(view.state);
  const editor = role === "owner" || role === "editor";
  const ro = !live || !editor || live.state === "closed" || (guest && live.state !== "live");
  view.dispatch({ effects: [setRole.of(role), editability.reconfigure(readOnly(ro))] });
}
