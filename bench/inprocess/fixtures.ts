import { createHash } from "node:crypto";
import { signAcs3 } from "../../test/support/signers/acs3.js";
import { signHuawei } from "../../test/support/signers/huawei.js";
import type { HttpRequestDescription } from "../../src/signing/request.js";
import { signSigV4 } from "../../test/support/signers/sigv4.js";

export interface BenchKey {
  readonly accessKeyId: string;
  readonly secret: string;
}

/** Deterministic keys shaped like real ones: 20-character ids, 40-character secrets. */
export function benchKeys(count: number): BenchKey[] {
  return Array.from({ length: count }, (_, i) => ({
    accessKeyId: `AKIABENCH${String(i).padStart(11, "0")}`,
    secret: createHash("sha256").update(`bench-secret-${i}`).digest("base64").slice(0, 40),
  }));
}

/** A key table for the verifier: a Map lookup, as the real index is. */
export function keyTable(keys: readonly BenchKey[]): Map<string, { secret: string }> {
  return new Map(keys.map((key) => [key.accessKeyId, { secret: key.secret }]));
}

// A JSON-protocol API call as the AWS SDK v3 sends it (DynamoDB GetItem-like), 250-byte body.
const JSON_BODY = Buffer.from(
  JSON.stringify({
    TableName: "bench-table",
    Key: { pk: { S: "tenant#0001/user#000042" }, sk: { S: "profile" } },
    ConsistentRead: true,
    ProjectionExpression: "pk, sk, displayName, email, createdAt, updatedAt, quota",
    ReturnConsumedCapacity: "TOTAL",
  }),
);

export function sigV4HeaderRequest(key: BenchKey, now: Date): HttpRequestDescription {
  const req: HttpRequestDescription = {
    method: "POST",
    rawPath: "/",
    rawQuery: "",
    headers: [
      ["host", "dynamodb.eu-west-1.amazonaws.com"],
      ["content-type", "application/x-amz-json-1.0"],
      ["x-amz-target", "DynamoDB_20120810.GetItem"],
      ["content-length", String(JSON_BODY.length)],
      ["x-amz-user-agent", "aws-sdk-js/3.600.0"],
      ["amz-sdk-invocation-id", "5b0e3f0c-3a35-4f8e-9f6c-6f0e1d7c2a41"],
      ["amz-sdk-request", "attempt=1; max=3"],
    ],
    body: JSON_BODY,
  };
  return signSigV4(req, { accessKeyId: key.accessKeyId, secret: key.secret, region: "eu-west-1", service: "dynamodb" }, now);
}

/** An S3 presigned GET of an object (UNSIGNED-PAYLOAD, host signed), as `getSignedUrl` makes it. */
export function sigV4PresignedRequest(key: BenchKey, now: Date): HttpRequestDescription {
  const req: HttpRequestDescription = {
    method: "GET",
    rawPath: "/reports/2024/05/monthly%20summary.pdf",
    rawQuery: "x-id=GetObject",
    headers: [["host", "bench-bucket.s3.eu-west-1.amazonaws.com"]],
  };
  return signSigV4(req, { accessKeyId: key.accessKeyId, secret: key.secret, region: "eu-west-1", service: "s3", presignExpires: 900 }, now);
}

/** An RPC-style call signed as `@alicloud/openapi-util` does (empty body, parameters in the query). */
export function acs3Request(key: BenchKey, now: Date, nonce: string): HttpRequestDescription {
  const req: HttpRequestDescription = {
    method: "POST",
    rawPath: "/",
    rawQuery: "RegionId=cn-shanghai&InstanceIds=%5B%22i-bp67acfmxazb4p%22%5D&PageSize=10",
    headers: [
      ["host", "ecs.cn-shanghai.aliyuncs.com"],
      ["x-acs-action", "DescribeInstances"],
      ["x-acs-version", "2014-05-26"],
      ["user-agent", "AlibabaCloud (linux; x64) Node.js/v20 Core/1.0.1 TeaDSL/2"],
    ],
    body: Buffer.alloc(0),
  };
  return signAcs3(req, { accessKeyId: key.accessKeyId, secret: key.secret, nonce }, now);
}

/** The Huawei SDK's own test request shape: a GET with a query, every header signed. */
export function huaweiRequest(key: BenchKey, now: Date): HttpRequestDescription {
  const req: HttpRequestDescription = {
    method: "GET",
    rawPath: "/v1/77b6a44cba5143ab91d13ab9a8ff44fd/vpcs",
    rawQuery: "limit=2&marker=13551d6b-755d-4757-b956-536f674975c0",
    headers: [
      ["host", "vpc.cn-north-4.myhuaweicloud.com"],
      ["content-type", "application/json"],
    ],
    body: Buffer.alloc(0),
  };
  return signHuawei(req, { accessKeyId: key.accessKeyId, secret: key.secret }, now);
}
