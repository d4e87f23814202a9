import { spawn } from "node:child_process";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { processesMentioning } from "../support/processes.js";

describe("npm run demo", () => {
  it("issues a key, allows a request signed by the AWS SDK v3 signer, denies it once inactive, then uses a session", async () => {
    const stateDir = await mkdtemp(join(tmpdir(), "keygate-demo-"));
    const child = spawn(process.execPath, ["--import", "tsx", "scripts/demo.ts", "--exit", "--state-dir", stateDir], {
      stdio: "pipe",
    });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
    expect(code, output).toBe(0);
    const allowedAt = output.indexOf('"allowed": true');
    const deniedAt = output.indexOf('"code": "InvalidClientTokenId"');
    expect(allowedAt, output).toBeGreaterThan(0);
    expect(deniedAt, output).toBeGreaterThan(allowedAt);
    expect(output).toContain('"credentialType": "AccessKey"');
    expect(output.indexOf('"credentialType": "TemporaryCredential"')).toBeGreaterThan(deniedAt);
    expect(await processesMentioning(stateDir)).toEqual([]);
  });
});
