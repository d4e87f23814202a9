import { describe, expect, it } from "vitest";
import { signAcs3 } from "../../support/signers/acs3.js";
import { signHuawei } from "../../support/signers/huawei.js";
import type { HttpRequestDescription } from "../../../src/signing/request.js";
import { signSigV4 } from "../../support/signers/sigv4.js";
import { headerOf, setHeader, verifyWith, withoutHeader } from "./helpers.js";

// Official data only: SIGNING.md's vectors verbatim, and the worked examples of the Amazon S3
// API Reference ("Signature Calculations for the Authorization Header", "Query String
// Authentication"), which are the only official S3 vectors (path as sent, UNSIGNED-PAYLOAD).

const AWS_SUITE = { AKIDEXAMPLE: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY" };
const SUITE_TIME = new Date("2015-08-30T12:36:00Z");
const SUITE_CREDENTIAL = "AKIDEXAMPLE/20150830/us-east-1/service/aws4_request";

interface VectorParts {
  readonly method: string;
  readonly rawPath?: string;
  readonly rawQuery?: string;
  readonly extra?: Array<[string, string]>;
  readonly signedHeaders?: string;
  readonly signature: string;
  readonly body?: string;
}

function suiteRequest({ method, rawQuery = "", extra = [], signedHeaders = "host;x-amz-date", signature, body }: VectorParts): HttpRequestDescription {
  return {
    method,
    rawPath: "/",
    rawQuery,
    headers: [
      ["Host", "example.amazonaws.com"],
      ...extra,
      ["X-Amz-Date", "20150830T123600Z"],
      ["Authorization", `AWS4-HMAC-SHA256 Credential=${SUITE_CREDENTIAL}, SignedHeaders=${signedHeaders}, Signature=${signature}`],
    ],
    body: body === undefined ? undefined : Buffer.from(body),
  };
}

const SIGV4_VECTORS = [
  {
    name: "GET / signs host and x-amz-date",
    req: suiteRequest({ method: "GET", signature: "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31" }),
  },
  {
    name: "GET /?Param2=value2&Param1=value1 sorts the query",
    req: suiteRequest({ method: "GET", rawQuery: "Param2=value2&Param1=value1", signature: "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500" }),
  },
  {
    name: "POST / with a form body signs content-type and the body hash",
    req: suiteRequest({
      method: "POST",
      extra: [["Content-Type", "application/x-www-form-urlencoded"]],
      signedHeaders: "content-type;host;x-amz-date",
      signature: "ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a",
      body: "Param1=value1",
    }),
  },
];

const S3_KEYS = { AKIAIOSFODNN7EXAMPLE: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY" };
const S3_TIME = new Date("2013-05-24T00:00:00Z");
const S3_HOST = "examplebucket.s3.amazonaws.com";
const EMPTY = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

function s3Request({ method, rawPath = "/", rawQuery = "", extra = [], signature, body }: VectorParts): HttpRequestDescription {
  const signed = ["host", ...extra.map(([name]) => name.toLowerCase())].sort().join(";");
  return {
    method,
    rawPath,
    rawQuery,
    headers: [
      ["Host", S3_HOST],
      ...extra,
      ["Authorization", `AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,SignedHeaders=${signed},Signature=${signature}`],
    ],
    body: body === undefined ? undefined : Buffer.from(body),
  };
}

const S3_VECTORS = [
  {
    name: "GET Object with a Range header",
    req: s3Request({
      method: "GET",
      rawPath: "/test.txt",
      extra: [
        ["Range", "bytes=0-9"],
        ["x-amz-content-sha256", EMPTY],
        ["x-amz-date", "20130524T000000Z"],
      ],
      signature: "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41",
    }),
  },
  {
    name: "PUT Object whose key is sent percent-encoded (/test%24file.text) and signed as sent",
    req: s3Request({
      method: "PUT",
      rawPath: "/test%24file.text",
      extra: [
        ["Date", "Fri, 24 May 2013 00:00:00 GMT"],
        ["x-amz-date", "20130524T000000Z"],
        ["x-amz-storage-class", "REDUCED_REDUNDANCY"],
        ["x-amz-content-sha256", "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072"],
      ],
      signature: "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd",
      body: "Welcome to Amazon S3.",
    }),
  },
  {
    name: "GET Bucket lifecycle (?lifecycle, a key without a value)",
    req: s3Request({
      method: "GET",
      rawQuery: "lifecycle",
      extra: [
        ["x-amz-content-sha256", EMPTY],
        ["x-amz-date", "20130524T000000Z"],
      ],
      signature: "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543",
    }),
  },
  {
    name: "GET Bucket list objects (?max-keys=2&prefix=J)",
    req: s3Request({
      method: "GET",
      rawQuery: "max-keys=2&prefix=J",
      extra: [
        ["x-amz-content-sha256", EMPTY],
        ["x-amz-date", "20130524T000000Z"],
      ],
      signature: "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7",
    }),
  },
];

const S3_PRESIGNED: HttpRequestDescription = {
  method: "GET",
  rawPath: "/test.txt",
  rawQuery:
    "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404",
  headers: [["Host", S3_HOST]],
};

const ALIBABA_KEYS = { YourAccessKeyId: "YourAccessKeySecret" };
const ALIBABA_TIME = new Date("2023-10-26T10:22:32Z");
const ALIBABA_AUTHORIZATION =
  "ACS3-HMAC-SHA256 Credential=YourAccessKeyId,SignedHeaders=host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version,Signature=06563a9e1b43f5dfe96b81484da74bceab24a1d853912eee15083a6f0f3283c0";
const ALIBABA_UNSIGNED: HttpRequestDescription = {
  method: "POST",
  rawPath: "/",
  rawQuery: "ImageId=win2019_1809_x64_dtc_zh-cn_40G_alibase_20230811.vhd&RegionId=cn-shanghai",
  headers: [
    ["host", "ecs.cn-shanghai.aliyuncs.com"],
    ["x-acs-action", "RunInstances"],
    ["x-acs-version", "2014-05-26"],
  ],
  body: Buffer.alloc(0),
};
const ALIBABA: HttpRequestDescription = {
  ...ALIBABA_UNSIGNED,
  headers: [
    ...ALIBABA_UNSIGNED.headers,
    ["x-acs-date", "2023-10-26T10:22:32Z"],
    ["x-acs-signature-nonce", "3156853299f313e23d1673dc12e1703d"],
    ["x-acs-content-sha256", EMPTY],
    ["Authorization", ALIBABA_AUTHORIZATION],
  ],
};

const HUAWEI_KEYS = { QTWAOYTTINDUT2QVKYUC: "MFyfvK41ba2giqM7Uio6PznpdUKGpownRZlmVmHc" };
const HUAWEI_TIME = new Date("2019-11-15T03:36:55Z");
const HUAWEI_AUTHORIZATION =
  "SDK-HMAC-SHA256 Access=QTWAOYTTINDUT2QVKYUC, SignedHeaders=content-type;host;x-sdk-date, Signature=7be6668032f70418fcc22abc52071e57aff61b84a1d2381bb430d6870f4f6ebe";
const HUAWEI_UNSIGNED: HttpRequestDescription = {
  method: "GET",
  rawPath: "/v1/77b6a44cba5143ab91d13ab9a8ff44fd/vpcs",
  rawQuery: "limit=2&marker=13551d6b-755d-4757-b956-536f674975c0",
  headers: [
    ["Host", "service.region.example.com"],
    ["Content-Type", "application/json"],
  ],
};
const HUAWEI: HttpRequestDescription = {
  ...HUAWEI_UNSIGNED,
  headers: [...HUAWEI_UNSIGNED.headers, ["X-Sdk-Date", "20191115T033655Z"], ["Authorization", HUAWEI_AUTHORIZATION]],
};

describe("SIGNING.md's SigV4 vectors", () => {
  it.each(SIGV4_VECTORS)("$name: verifies", ({ req }) => {
    expect(verifyWith(AWS_SUITE, req, SUITE_TIME)).toMatchObject({ allowed: true, scheme: "AWS4-HMAC-SHA256", accessKeyId: "AKIDEXAMPLE" });
  });

  it.each(SIGV4_VECTORS)("$name: the test signer reproduces its Authorization header", ({ req }) => {
    const unsigned = withoutHeader(withoutHeader(req, "authorization"), "x-amz-date");
    const signed = signSigV4(unsigned, { accessKeyId: "AKIDEXAMPLE", secret: AWS_SUITE.AKIDEXAMPLE, region: "us-east-1", service: "service" }, SUITE_TIME);
    expect(headerOf(signed, "authorization")).toBe(headerOf(req, "authorization"));
  });
});

describe("the Amazon S3 API Reference examples", () => {
  it.each(S3_VECTORS)("$name: verifies", ({ req }) => {
    expect(verifyWith(S3_KEYS, req, S3_TIME)).toMatchObject({ allowed: true, service: "s3" });
  });

  it("the presigned GET Object URL verifies, signing UNSIGNED-PAYLOAD as S3 presigned URLs do", () => {
    expect(verifyWith(S3_KEYS, S3_PRESIGNED, S3_TIME)).toMatchObject({ allowed: true, presigned: true, payloadVerified: false, expiresAt: new Date("2013-05-25T00:00:00Z") });
  });

  it("the PUT Object example checks its body against the signed x-amz-content-sha256", () => {
    const put = S3_VECTORS[1]?.req as HttpRequestDescription;
    expect(verifyWith(S3_KEYS, put, S3_TIME)).toMatchObject({ allowed: true, payloadVerified: true });
    expect(verifyWith(S3_KEYS, { ...put, body: Buffer.from("Welcome to Amazon S4.") }, S3_TIME)).toMatchObject({ allowed: false, code: "XAmzContentSHA256Mismatch", httpStatus: 400 });
  });

  it("the PUT Object key is not encoded a second time for S3: sending it decoded breaks the signature", () => {
    const put = S3_VECTORS[1]?.req as HttpRequestDescription;
    expect(verifyWith(S3_KEYS, { ...put, rawPath: "/test$file.text" }, S3_TIME)).toMatchObject({ allowed: false, code: "SignatureDoesNotMatch" });
  });
});

describe("SIGNING.md's Alibaba Cloud V3 vector", () => {
  it("verifies", () => {
    expect(verifyWith(ALIBABA_KEYS, ALIBABA, ALIBABA_TIME)).toMatchObject({ allowed: true, scheme: "ACS3-HMAC-SHA256", accessKeyId: "YourAccessKeyId", payloadVerified: true });
  });

  it("the test signer reproduces its Authorization header", () => {
    const signed = signAcs3(ALIBABA_UNSIGNED, { accessKeyId: "YourAccessKeyId", secret: "YourAccessKeySecret", nonce: "3156853299f313e23d1673dc12e1703d" }, ALIBABA_TIME);
    expect(headerOf(signed, "authorization")).toBe(ALIBABA_AUTHORIZATION);
  });
});

describe("SIGNING.md's Huawei Cloud vector", () => {
  it("verifies", () => {
    expect(verifyWith(HUAWEI_KEYS, HUAWEI, HUAWEI_TIME)).toMatchObject({ allowed: true, scheme: "SDK-HMAC-SHA256", accessKeyId: "QTWAOYTTINDUT2QVKYUC" });
  });

  it("the test signer reproduces its Authorization header", () => {
    const signed = signHuawei(HUAWEI_UNSIGNED, { accessKeyId: "QTWAOYTTINDUT2QVKYUC", secret: HUAWEI_KEYS.QTWAOYTTINDUT2QVKYUC }, HUAWEI_TIME);
    expect(headerOf(signed, "authorization")).toBe(HUAWEI_AUTHORIZATION);
  });
});

const TAMPERS: Array<[string, (req: HttpRequestDescription) => HttpRequestDescription]> = [
  ["the method", (req) => ({ ...req, method: req.method === "GET" ? "HEAD" : "GET" })],
  ["the path", (req) => ({ ...req, rawPath: `${req.rawPath}x` })],
  ["the query", (req) => ({ ...req, rawQuery: req.rawQuery === "" ? "a=b" : `${req.rawQuery}&a=b` })],
  ["the host", (req) => setHeader(req, "host", "attacker.example.com")],
];

const ALL_VECTORS: Array<[string, HttpRequestDescription, Record<string, string>, Date]> = [
  ...SIGV4_VECTORS.map(({ name, req }): [string, HttpRequestDescription, Record<string, string>, Date] => [`SigV4 ${name}`, req, AWS_SUITE, SUITE_TIME]),
  ["Alibaba", ALIBABA, ALIBABA_KEYS, ALIBABA_TIME],
  ["Huawei", HUAWEI, HUAWEI_KEYS, HUAWEI_TIME],
];

describe("a vector changed after signing", () => {
  const cases = ALL_VECTORS.flatMap(([vector, req, keys, now]) => TAMPERS.map(([part, tamper]) => ({ vector, part, req: tamper(req), keys, now })));
  it.each(cases)("$vector with another $part is SignatureDoesNotMatch", ({ req, keys, now }) => {
    expect(verifyWith(keys, req, now)).toMatchObject({ allowed: false, code: "SignatureDoesNotMatch", httpStatus: 403 });
  });

  it.each(ALL_VECTORS)("%s with the wrong secret is SignatureDoesNotMatch", (_name, req, keys, now) => {
    const wrong = Object.fromEntries(Object.keys(keys).map((id) => [id, "not-the-secret"]));
    expect(verifyWith(wrong, req, now)).toMatchObject({ allowed: false, code: "SignatureDoesNotMatch" });
  });
});
