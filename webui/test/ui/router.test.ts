import { describe, expect, it } from "vitest";
import { parseRoute } from "../../src/ui/router";

describe("routes", () => {
  it("never use the server's API prefixes", () => {
    expect(parseRoute("/")).toEqual({ name: "list" });
    expect(parseRoute("/signin", "?next=%2Fd%2Fabc")).toEqual({ name: "signin", next: "/d/abc" });
    expect(parseRoute("/signup")).toEqual({ name: "signup", next: null });
    expect(parseRoute("/d/a%20b")).toEqual({ name: "editor", id: "a b" });
    expect(parseRoute("/unknown/path")).toEqual({ name: "list" });
    expect(parseRoute("/invite/AbC-_9")).toEqual({ name: "invite", token: "AbC-_9" });
    // also an API route: the server gives a browser navigating there the app (it asks for HTML)
    expect(parseRoute("/admin/audit")).toEqual({ name: "audit" });
    expect(parseRoute("/forgot")).toEqual({ name: "forgot" });
    expect(parseRoute("/reset/AbC-_9")).toEqual({ name: "reset", token: "AbC-_9" });
    expect(parseRoute("/tokens")).toEqual({ name: "tokens" });
  });

  it("read a public link's token from the fragment (or the query)", () => {
    expect(parseRoute("/d/abc", "", "#link=tok_123")).toEqual({ name: "editor", id: "abc", link: "tok_123" });
    expect(parseRoute("/d/abc", "?link=tok_456")).toEqual({ name: "editor", id: "abc", link: "tok_456" });
    expect(parseRoute("/d/abc", "", "#other=1")).toEqual({ name: "editor", id: "abc" });
  });
});
