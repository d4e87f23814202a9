// A bare verification loop to run under the V8 profiler:
//   node --cpu-prof --cpu-prof-dir=.keygate/profiles --import tsx bench/profile.ts [scheme] [seconds]
// then `npx tsx bench/cpuprofile-top.ts <file>.cpuprofile` to list the hottest frames.
import { verifySignedRequest } from "../src/signing/verify.js";
import type { HttpRequestDescription } from "../src/signing/request.js";
import { acs3Request, benchKeys, huaweiRequest, keyTable, sigV4HeaderRequest, sigV4PresignedRequest } from "./inprocess/fixtures.js";

const BUILDERS: Record<string, (key: ReturnType<typeof benchKeys>[number], now: Date, i: number) => HttpRequestDescription> = {
  "sigv4-header": (key, now) => sigV4HeaderRequest(key, now),
  "sigv4-presigned": (key, now) => sigV4PresignedRequest(key, now),
  acs3: (key, now, i) => acs3Request(key, now, `nonce-${i}`),
  huawei: (key, now) => huaweiRequest(key, now),
};

const scheme = process.argv[2] ?? "sigv4-header";
const seconds = Number(process.argv[3] ?? "5");
const build = BUILDERS[scheme];
if (build === undefined) throw new Error(`unknown scheme ${scheme}; one of ${Object.keys(BUILDERS).join(", ")}`);
const now = new Date();
const keys = benchKeys(64);
const table = keyTable(keys);
const requests = keys.map((key, i) => build(key, now, i));
const deps = { lookup: (id: string) => table.get(id) };
const end = Date.now() + seconds * 1000;
let count = 0;
while (Date.now() < end) {
  for (let i = 0; i < 256; i++) verifySignedRequest(requests[(count + i) % requests.length] as HttpRequestDescription, deps, now);
  count += 256;
}
console.log(`${scheme}: ${Math.round(count / seconds)} verifications/s under the profiler`);
