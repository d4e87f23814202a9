import { randomBytes } from "node:crypto";
import { ACS3, parseAcs3Header } from "../../../src/signing/acs3.js";
import { sha256Hex } from "../../../src/signing/digest.js";
import type { HttpRequestDescription } from "../../../src/signing/request.js";
import { PLACEHOLDER_SIGNATURE, signatureOf, signerView } from "./sign.js";

export interface Acs3SigningInput {
  readonly accessKeyId: string;
  readonly secret: string;
  readonly securityToken?: string;
  /** Fixed for reproducible tests; random like the SDK's otherwise. */
  readonly nonce?: string;
}

/**
 * Signs as `@alicloud/openapi-util` does: adds x-acs-date, x-acs-signature-nonce and
 * x-acs-content-sha256, signs host, content-type and every x-acs-* header.
 */
export function signAcs3(req: HttpRequestDescription, input: Acs3SigningInput, now: Date): HttpRequestDescription {
  const headers: HttpRequestDescription["headers"] = [
    ...req.headers,
    ["x-acs-date", now.toISOString().replace(/\.\d{3}Z$/, "Z")],
    ["x-acs-signature-nonce", input.nonce ?? randomBytes(16).toString("hex")],
    ["x-acs-content-sha256", sha256Hex(req.body ?? Buffer.alloc(0))],
  ];
  if (input.securityToken !== undefined) headers.push(["x-acs-security-token", input.securityToken]);
  const unsigned = { ...req, headers };
  const view = signerView(unsigned);
  const signedHeaders = [...view.headers.keys()].filter((name) => name === "host" || name === "content-type" || name.startsWith("x-acs-")).sort();
  const params = `Credential=${input.accessKeyId},SignedHeaders=${signedHeaders.join(";")}`;
  const signature = signatureOf(parseAcs3Header(view, `${params},Signature=${PLACEHOLDER_SIGNATURE}`), input.secret);
  return { ...unsigned, headers: [...headers, ["Authorization", `${ACS3} ${params},Signature=${signature}`]] };
}
