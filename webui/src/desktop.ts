/**
 * The desktop window's hook (`docstream desktop`, docstream/desktop/shell.py).
 *
 * The shell loads `/?desktop` in a pywebview window and exposes `window.pywebview.api.session()`,
 * which returns the local profile's refresh token once. Imported first by main.ts, this module
 * waits (top-level await, only when the marker is present) for pywebview's bridge, stores the token
 * where `Api.resume()` looks for it, and removes the marker from the address before the router
 * starts: the UI then boots signed in, and the token never appears in a URL.
 *
 * It also answers the shell's question before the window closes: how many edits the server has
 * not acknowledged yet (`window.__docstreamDesktop.unsaved()`).
 */

interface PywebviewApi {
  session(): Promise<{ refresh_token: string } | null>;
}

declare global {
  interface Window {
    pywebview?: { api: PywebviewApi };
    __docstreamDesktop?: { unsaved(): number };
  }
}

import { writeRefreshToken } from "./tokens";

const MARKER = "desktop";
const BRIDGE_TIMEOUT_MS = 10_000;

function bridge(): Promise<PywebviewApi | null> {
  if (window.pywebview?.api) return Promise.resolve(window.pywebview.api);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(null), BRIDGE_TIMEOUT_MS);
    window.addEventListener(
      "pywebviewready",
      () => {
        clearTimeout(timer);
        resolve(window.pywebview?.api ?? null);
      },
      { once: true },
    );
  });
}

async function signInFromShell(): Promise<void> {
  const params = new URLSearchParams(location.search);
  if (!params.has(MARKER)) return;
  params.delete(MARKER);
  const rest = params.toString();
  history.replaceState(null, "", location.pathname + (rest ? `?${rest}` : "") + location.hash);
  const api = await bridge();
  if (!api) return;
  try {
    const session = await api.session();
    if (session?.refresh_token) await writeRefreshToken(session.refresh_token);
  } catch {
    /* no session from the shell: the sign-in screen is shown instead */
  }
}

window.__docstreamDesktop = {
  unsaved(): number {
    const live = window.__docstream?.editor()?.debug.live();
    return live && !live.saved ? 1 : 0;
  },
};

await signInFromShell();

export {};
