import { describe, expect, it } from "vitest";
import { errorMessage, localPath, startUrl } from "../../src/ui/sso/api";

describe("single sign-on helpers", () => {
  it("keeps only paths on this server as the page to open afterwards", () => {
    expect(localPath("/d/abc?x=1#y")).toBe("/d/abc?x=1#y");
    for (const bad of ["//evil.example/x", "https://evil.example", "/\\evil.example", "evil", "/d/a b", "/d/\n", ""])
      expect(localPath(bad)).toBeNull();
    expect(localPath(null)).toBeNull();
  });

  it("builds the start address with a local next only", () => {
    expect(startUrl("/d/a b")).toBe("/auth/oidc/start");
    expect(startUrl("/d/abc")).toBe("/auth/oidc/start?next=%2Fd%2Fabc");
    expect(startUrl("//evil.example")).toBe("/auth/oidc/start");
    expect(startUrl(null)).toBe("/auth/oidc/start");
  });

  it("explains a failure with a fixed text, never the address's own words", () => {
    expect(errorMessage(null)).toBeNull();
    expect(errorMessage("denied")).toContain("cancelled");
    const injected = errorMessage("Your account is locked, call +1 555 0100");
    expect(injected).toBe("The sign-in did not work. Please try again.");
    expect(errorMessage("__proto__")).toBe("The sign-in did not work. Please try again.");
  });
});
