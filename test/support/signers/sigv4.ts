import { uriEncode } from "../../../src/signing/canonical.js";
import type { HttpRequestDescription } from "../../../src/signing/request.js";
import { parseSigV4Header, parseSigV4Query, SIGV4 } from "../../../src/signing/sigv4.js";
import { formatCompactUtc, PLACEHOLDER_SIGNATURE, signatureOf, signerView } from "./sign.js";

export interface SigV4SigningInput {
  readonly accessKeyId: string;
  readonly secret: string;
  readonly region: string;
  readonly service: string;
  readonly sessionToken?: string;
  /** Presign for this many seconds instead of adding an Authorization header. */
  readonly presignExpires?: number;
}

/** Signs a request the way the AWS SDKs do (every header present is signed). */
export function signSigV4(req: HttpRequestDescription, input: SigV4SigningInput, now: Date): HttpRequestDescription {
  return input.presignExpires === undefined ? signWithHeader(req, input, now) : presign(req, input, now, input.presignExpires);
}

/** `AK/yyyymmdd/region/service/aws4_request` */
function credential(input: SigV4SigningInput, amzDate: string): string {
  return `${input.accessKeyId}/${amzDate.slice(0, 8)}/${input.region}/${input.service}/aws4_request`;
}

function signedHeaderNames(headers: HttpRequestDescription["headers"]): string {
  const names = new Set(headers.map(([name]) => name.toLowerCase()));
  names.delete("authorization");
  return [...names].sort().join(";");
}

function signWithHeader(req: HttpRequestDescription, input: SigV4SigningInput, now: Date): HttpRequestDescription {
  const amzDate = formatCompactUtc(now);
  const headers: HttpRequestDescription["headers"] = [...req.headers, ["X-Amz-Date", amzDate]];
  if (input.sessionToken !== undefined) headers.push(["X-Amz-Security-Token", input.sessionToken]);
  const unsigned = { ...req, headers };
  const params = `Credential=${credential(input, amzDate)}, SignedHeaders=${signedHeaderNames(headers)}`;
  const signature = signatureOf(parseSigV4Header(signerView(unsigned), `${params}, Signature=${PLACEHOLDER_SIGNATURE}`), input.secret);
  return { ...unsigned, headers: [...headers, ["Authorization", `${SIGV4} ${params}, Signature=${signature}`]] };
}

function presign(req: HttpRequestDescription, input: SigV4SigningInput, now: Date, expires: number): HttpRequestDescription {
  const amzDate = formatCompactUtc(now);
  const params: Array<[string, string]> = [
    ["X-Amz-Algorithm", SIGV4],
    ["X-Amz-Credential", credential(input, amzDate)],
    ["X-Amz-Date", amzDate],
    ["X-Amz-Expires", String(expires)],
    ["X-Amz-SignedHeaders", signedHeaderNames(req.headers)],
  ];
  if (input.sessionToken !== undefined) params.push(["X-Amz-Security-Token", input.sessionToken]);
  const added = params.map(([key, value]) => `${key}=${uriEncode(value)}`).join("&");
  const rawQuery = req.rawQuery === "" ? added : `${req.rawQuery}&${added}`;
  const placeheld = signerView({ ...req, rawQuery: `${rawQuery}&X-Amz-Signature=${PLACEHOLDER_SIGNATURE}` });
  const signature = signatureOf(parseSigV4Query(placeheld), input.secret);
  return { ...req, rawQuery: `${rawQuery}&X-Amz-Signature=${signature}` };
}
