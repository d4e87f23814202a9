import { describe, expect, it } from "vitest";
import { parseDuration } from "../../src/duration.js";

describe("durations on the command line", () => {
  it.each([
    ["30d", 30 * 86_400_000],
    ["12h", 12 * 3_600_000],
    ["1d12h", 36 * 3_600_000],
    ["90s", 90_000],
  ])("reads %s", (text, ms) => {
    expect(parseDuration(text, "--x")).toBe(ms);
  });

  it.each(["", "30", "d", "30days", "-1d", "1.5h"])("refuses %j and names the option", (text) => {
    expect(() => parseDuration(text, "--recycle-retention")).toThrow(/--recycle-retention/);
  });
});
