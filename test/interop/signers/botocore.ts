import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { splitRequestTarget } from "../../../src/signing/request.js";
import { awsOptions, bodyBytes, compactUtc, headerObject } from "./common.js";
import type { SignedRequest, SignInput } from "./types.js";

const SCRIPT = fileURLToPath(new URL("./botocore_sign.py", import.meta.url));
const PYTHON = process.env.PYTHON ?? "python3";

interface BotocoreOutput {
  readonly method: string;
  readonly url: string;
  readonly headers: Array<[string, string]>;
  readonly body: string;
}

function toSpec(input: SignInput): Record<string, unknown> {
  const aws = awsOptions(input);
  return {
    accessKeyId: input.accessKeyId,
    secret: input.secret,
    sessionToken: input.sessionToken,
    method: input.method,
    url: input.url,
    query: input.query ?? [],
    headers: Object.entries(headerObject(input.headers)),
    body: bodyBytes(input.body).toString("base64"),
    time: compactUtc(input.time),
    region: aws.region,
    service: aws.service,
    presignExpires: aws.presignExpires,
    unsignedPayload: aws.unsignedPayload ?? false,
  };
}

function fromOutput(output: BotocoreOutput): SignedRequest {
  const target = output.url.replace(/^https?:\/\/[^/?#]+/, "");
  return { method: output.method, ...splitRequestTarget(target), headers: output.headers, body: Buffer.from(output.body, "base64") };
}

function runPython(stdin: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(PYTHON, [SCRIPT], { stdio: ["pipe", "pipe", "pipe"] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on("data", (chunk: Buffer) => out.push(chunk));
    child.stderr.on("data", (chunk: Buffer) => err.push(chunk));
    child.on("error", reject);
    child.on("close", (code) => {
      if (code === 0) resolve(Buffer.concat(out).toString("utf8"));
      else reject(new Error(`${PYTHON} ${SCRIPT} exited with ${code}: ${Buffer.concat(err).toString("utf8")} (is botocore installed? see test/interop/requirements.txt)`));
    });
    child.stdin.end(stdin);
  });
}

/** Signs every request in one Python process: importing botocore is the slow part. */
export async function signWithBotocore(inputs: readonly SignInput[]): Promise<SignedRequest[]> {
  const output = JSON.parse(await runPython(JSON.stringify(inputs.map(toSpec)))) as BotocoreOutput[];
  return output.map(fromOutput);
}
