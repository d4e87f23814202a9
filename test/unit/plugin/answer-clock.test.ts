import { describe, expect, it } from "vitest";
import { type HandedOver, verdictInTime } from "../../../src/plugin/answer-clock.js";

const after = <T>(ms: number, value: T): Promise<T> => new Promise((resolve) => setTimeout(resolve, ms, value));

describe("how long mfa add-key waits for the page's answer", () => {
  it("waits for the verdict on an answer handed over before the time ran out, however late it comes", async () => {
    const handedOver = after<HandedOver<string>>(20, { verdict: after(200, "registered") });
    const started = Date.now();
    expect(await verdictInTime(handedOver, 60)).toBe("registered");
    expect(Date.now() - started).toBeGreaterThanOrEqual(200);
  });

  it("gives up when no answer was handed over in time, and ignores one that comes later", async () => {
    const handedOver = after<HandedOver<string>>(150, { verdict: Promise.resolve("registered") });
    const started = Date.now();
    expect(await verdictInTime(handedOver, 40)).toBeUndefined();
    expect(Date.now() - started).toBeLessThan(150);
  });

  it("returns a verdict as soon as it is given", async () => {
    const started = Date.now();
    expect(await verdictInTime(Promise.resolve({ verdict: after(10, "refused") }), 5_000)).toBe("refused");
    expect(Date.now() - started).toBeLessThan(1_000);
  });
});
