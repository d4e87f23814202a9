import { HUAWEI_SDK, parseHuaweiHeader } from "../../../src/signing/huawei.js";
import type { HttpRequestDescription } from "../../../src/signing/request.js";
import { formatCompactUtc, PLACEHOLDER_SIGNATURE, signatureOf, signerView } from "./sign.js";

export interface HuaweiSigningInput {
  readonly accessKeyId: string;
  readonly secret: string;
  readonly securityToken?: string;
}

/** Signs as the Huawei Cloud SDK's AK/SK signer does: adds X-Sdk-Date, signs every header. */
export function signHuawei(req: HttpRequestDescription, input: HuaweiSigningInput, now: Date): HttpRequestDescription {
  const headers: HttpRequestDescription["headers"] = [...req.headers, ["X-Sdk-Date", formatCompactUtc(now)]];
  if (input.securityToken !== undefined) headers.push(["X-Security-Token", input.securityToken]);
  const unsigned = { ...req, headers };
  const view = signerView(unsigned);
  const signedHeaders = [...view.headers.keys()].filter((name) => name !== "authorization").sort();
  const params = `Access=${input.accessKeyId}, SignedHeaders=${signedHeaders.join(";")}`;
  const signature = signatureOf(parseHuaweiHeader(view, `${params}, Signature=${PLACEHOLDER_SIGNATURE}`), input.secret);
  return { ...unsigned, headers: [...headers, ["Authorization", `${HUAWEI_SDK} ${params}, Signature=${signature}`]] };
}
