// The Trash page's "days left" and its route.
import { describe, expect, it } from "vitest";
import { parseRoute } from "../../src/ui/router";
import { daysLeft } from "../../src/ui/trash/days";

const now = Date.parse("2026-03-01T12:00:00Z");
const later = (ms: number): string => new Date(now + ms).toISOString();
const DAY = 86_400_000;

describe("days left in the trash", () => {
  it("counts a day begun as a day", () => {
    expect(daysLeft(later(30 * DAY - 1000), now)).toBe("30 days left");
    expect(daysLeft(later(2 * DAY), now)).toBe("2 days left");
    expect(daysLeft(later(DAY + 1), now)).toBe("2 days left");
    expect(daysLeft(later(DAY), now)).toBe("1 day left");
    expect(daysLeft(later(60_000), now)).toBe("1 day left");
  });

  it("says soon once the time is up or unreadable", () => {
    expect(daysLeft(later(0), now)).toBe("Deleted for good soon");
    expect(daysLeft(later(-DAY), now)).toBe("Deleted for good soon");
    expect(daysLeft("not a date", now)).toBe("Deleted for good soon");
  });

  it("has its own page", () => {
    expect(parseRoute("/trash")).toEqual({ name: "trash" });
    expect(parseRoute("/trash/")).toEqual({ name: "trash" });
  });
});
