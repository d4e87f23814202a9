import { Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { ACCESS_KEY_AGE_BUCKETS, type Inventory, registerInventoryMetrics } from "../../../src/runtime/inventory-metrics.js";
import { samples, types, value } from "./metrics-exposition.js";

const DAY = 86_400;

const EMPTY: Inventory = { accessKeys: { Active: 0, Inactive: 0, Recycled: 0 }, activeAccessKeyAgesSeconds: [], staleAccessKeys: 0, temporaryCredentialsLive: 0, mfaDevicesBound: 0 };

function exposition(inventories: Inventory[]) {
  const registry = new Registry();
  let reads = 0;
  registerInventoryMetrics(registry, () => inventories[Math.min(reads++, inventories.length - 1)] ?? EMPTY);
  return { scrape: () => registry.metrics(), reads: () => reads };
}

describe("keygate's inventory metrics", () => {
  it("exports the counts the operator reports, by state for access keys", async () => {
    const { scrape } = exposition([
      { accessKeys: { Active: 3, Inactive: 1, Recycled: 2 }, activeAccessKeyAgesSeconds: [DAY / 2, 10 * DAY, 95 * DAY], staleAccessKeys: 2, temporaryCredentialsLive: 4, mfaDevicesBound: 5 },
    ]);
    const text = await scrape();
    expect(types(text)).toEqual({
      keygate_access_keys: "gauge",
      keygate_access_key_age_seconds: "histogram",
      keygate_access_keys_stale: "gauge",
      keygate_temporary_credentials_live: "gauge",
      keygate_mfa_devices_bound: "gauge",
    });
    expect(samples(text).filter((sample) => sample.name === "keygate_access_keys")).toEqual([
      { name: "keygate_access_keys", labels: { state: "Active" }, value: 3 },
      { name: "keygate_access_keys", labels: { state: "Inactive" }, value: 1 },
      { name: "keygate_access_keys", labels: { state: "Recycled" }, value: 2 },
    ]);
    expect(value(text, "keygate_access_keys_stale")).toBe(2);
    expect(value(text, "keygate_temporary_credentials_live")).toBe(4);
    expect(value(text, "keygate_mfa_devices_bound")).toBe(5);
  });

  it("buckets Active keys by age at 1, 7, 30, 90, 180 and 365 days, so keys past 90 days can be counted", async () => {
    const { scrape } = exposition([{ ...EMPTY, activeAccessKeyAgesSeconds: [DAY / 2, 10 * DAY, 95 * DAY, 400 * DAY] }]);
    const text = await scrape();
    const bucket = (days: number): number => value(text, "keygate_access_key_age_seconds_bucket", { le: String(days * DAY) });
    expect(ACCESS_KEY_AGE_BUCKETS).toEqual([1, 7, 30, 90, 180, 365].map((days) => days * DAY));
    expect([1, 7, 30, 90, 180, 365].map(bucket)).toEqual([1, 1, 2, 2, 3, 3]);
    const count = value(text, "keygate_access_key_age_seconds_count");
    expect(count).toBe(4);
    expect(count - bucket(90)).toBe(2);
  });

  it("takes a new snapshot at every scrape: a key gone is gone, a state no longer reported has no series", async () => {
    const { scrape } = exposition([
      { ...EMPTY, accessKeys: { Active: 2, Recycled: 1 }, activeAccessKeyAgesSeconds: [100 * DAY, 200 * DAY] },
      { ...EMPTY, accessKeys: { Active: 1 }, activeAccessKeyAgesSeconds: [100 * DAY] },
    ]);
    await scrape();
    const text = await scrape();
    expect(value(text, "keygate_access_key_age_seconds_count")).toBe(1);
    expect(value(text, "keygate_access_key_age_seconds_sum")).toBe(100 * DAY);
    expect(samples(text).filter((sample) => sample.name === "keygate_access_keys").map((sample) => sample.labels.state)).toEqual(["Active"]);
  });

  it("keeps the age histogram, at zero, when there is no Active key", async () => {
    const text = await exposition([EMPTY]).scrape();
    expect(value(text, "keygate_access_key_age_seconds_count")).toBe(0);
    expect(value(text, "keygate_access_key_age_seconds_bucket", { le: "+Inf" })).toBe(0);
  });

  it("reads the inventory once per scrape", async () => {
    const { scrape, reads } = exposition([EMPTY]);
    await scrape();
    expect(reads()).toBe(1);
    await scrape();
    expect(reads()).toBe(2);
  });
});
