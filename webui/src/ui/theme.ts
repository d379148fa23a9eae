/**
 * Light, dark or the system's choice: stored on this device and applied as `data-theme` on
 * <html>, which selects the token values in styles/tokens.css. "system" follows the system's
 * preference, live.
 *
 * `applyStoredTheme()` runs before the first paint (main.ts imports this module first), so a dark
 * theme never flashes light.
 */
export type ThemeChoice = "system" | "light" | "dark";

const KEY = "docstream.theme";
const listeners = new Set<(choice: ThemeChoice) => void>();
const query = typeof matchMedia === "function" ? matchMedia("(prefers-color-scheme: dark)") : null;

export function themeChoice(): ThemeChoice {
  let stored: string | null = null;
  try {
    stored = localStorage.getItem(KEY);
  } catch {
    // storage blocked: the system's choice
  }
  return stored === "light" || stored === "dark" ? stored : "system";
}

/** The theme in effect now (the system's when the choice is "system"). */
export function effectiveTheme(choice: ThemeChoice = themeChoice()): "light" | "dark" {
  if (choice !== "system") return choice;
  return query?.matches ? "dark" : "light";
}

export function applyStoredTheme(): void {
  document.documentElement.dataset.theme = effectiveTheme();
}

export function setTheme(choice: ThemeChoice): void {
  try {
    if (choice === "system") localStorage.removeItem(KEY);
    else localStorage.setItem(KEY, choice);
  } catch {
    // storage blocked: applies to this page only
  }
  applyStoredTheme();
  for (const listener of listeners) listener(choice);
}

/** Light <-> dark (leaving "system" for the opposite of what shows now). */
export function toggleTheme(): void {
  setTheme(effectiveTheme() === "dark" ? "light" : "dark");
}

export function onThemeChange(listener: (choice: ThemeChoice) => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

query?.addEventListener("change", () => {
  if (themeChoice() === "system") applyStoredTheme();
});
applyStoredTheme();
