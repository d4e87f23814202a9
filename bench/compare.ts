// Before/after: another copy of src/signing (an older commit's, say) against this one, on the
// same fixtures, interleaved in one process so both see the same machine load.
//   mkdir -p /tmp/old && git archive HEAD src/signing | tar -x -C /tmp/old
//   npx tsx bench/compare.ts /tmp/old/src/signing
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import type { HttpRequestDescription } from "../src/signing/request.js";
import { verifySignedRequest } from "../src/signing/verify.js";
import { acs3Request, benchKeys, huaweiRequest, keyTable, sigV4HeaderRequest, sigV4PresignedRequest } from "./inprocess/fixtures.js";
import { type Case, sampleInterleaved } from "./lib/sampler.js";
import { pairedRatios, summarize } from "./lib/stats.js";

type Verify = typeof verifySignedRequest;

function verifyCase(name: string, verify: Verify, requests: readonly HttpRequestDescription[], now: Date): Case {
  const table = keyTable(benchKeys(requests.length));
  // Older copies of the core claimed nonces themselves (deps.nonces); this one hands them to the
  // verifier's replay store. Those get a store that accepts every nonce, so both sides do the
  // signature work only.
  const deps = { lookup: (id: string) => table.get(id), nonces: { remember: () => "fresh" as const } };
  let next = 0;
  return {
    name,
    run(operations) {
      let allowed = 0;
      for (let i = 0; i < operations; i++) if (verify(requests[next++ % requests.length] as HttpRequestDescription, deps, now).allowed) allowed++;
      return allowed;
    },
  };
}

async function main(): Promise<void> {
  const other = process.argv[2];
  if (other === undefined) throw new Error("usage: tsx bench/compare.ts <path of another src/signing>");
  const module = (await import(pathToFileURL(resolve(other, "verify.ts")).href)) as { verifySignedRequest: Verify };
  const now = new Date(Date.now() - 60_000);
  const keys = benchKeys(64);
  const fixtures: Record<string, HttpRequestDescription[]> = {
    "sigv4-header": keys.map((key) => sigV4HeaderRequest(key, now)),
    "sigv4-presigned": keys.map((key) => sigV4PresignedRequest(key, now)),
    acs3: keys.map((key, i) => acs3Request(key, now, `nonce-${i}`)),
    huawei: keys.map((key) => huaweiRequest(key, now)),
  };
  const cases = Object.entries(fixtures).flatMap(([name, requests]) => [
    verifyCase(`${name} (other)`, module.verifySignedRequest, requests, now),
    verifyCase(`${name} (this)`, verifySignedRequest, requests, now),
  ]);
  const results = sampleInterleaved(cases, { warmupMs: 500, sampleMs: 250, rounds: 11, batch: 64 });
  console.log("| case | other: verifications/s | this: verifications/s | this ÷ other (median of rounds) |\n| --- | --- | --- | --- |");
  for (let i = 0; i + 1 < results.length; i += 2) {
    const [before, after] = [results[i], results[i + 1]];
    if (before === undefined || after === undefined) continue;
    const ratio = summarize(pairedRatios(after.opsPerSecond, before.opsPerSecond));
    const name = before.name.replace(" (other)", "");
    const median = (values: number[]) => Math.round(summarize(values).median).toLocaleString("en-US");
    console.log(`| ${name} | ${median(before.opsPerSecond)} | ${median(after.opsPerSecond)} | ${ratio.median.toFixed(2)} (${ratio.min.toFixed(2)}–${ratio.max.toFixed(2)}) |`);
    if (before.failures + after.failures > 0) console.log(`  ${name}: ${before.failures + after.failures} verifications were not allowed`);
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
