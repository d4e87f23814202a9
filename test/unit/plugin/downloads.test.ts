import { mkdtemp, readFile, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { downloadContent, parseDownload, SecretFile } from "../../../src/plugin/downloads.js";

const key = { user: "alice", accessKeyId: "KGAKABCDEFGHIJKLMNOP", secretAccessKey: "s".repeat(40), createdAt: "2026-11-29T06:00:00Z" };

describe("the files create-key downloads", () => {
  it("writes csv byte for byte as the AWS console does", () => {
    expect(downloadContent("csv", key)).toBe(`\uFEFFAccess key ID,Secret access key\r\nKGAKABCDEFGHIJKLMNOP,${key.secretAccessKey}\r\n`);
  });

  it("writes env as every cloud SDK's variables, one per line, for --env-file and dotenv", () => {
    expect(downloadContent("env", key).split("\n")).toEqual([
      "AWS_ACCESS_KEY_ID=KGAKABCDEFGHIJKLMNOP",
      `AWS_SECRET_ACCESS_KEY=${key.secretAccessKey}`,
      "ALIBABA_CLOUD_ACCESS_KEY_ID=KGAKABCDEFGHIJKLMNOP",
      `ALIBABA_CLOUD_ACCESS_KEY_SECRET=${key.secretAccessKey}`,
      "HUAWEICLOUD_SDK_AK=KGAKABCDEFGHIJKLMNOP",
      `HUAWEICLOUD_SDK_SK=${key.secretAccessKey}`,
      "",
    ]);
  });

  it("writes ini as the default profile of ~/.aws/credentials", () => {
    expect(downloadContent("ini", key)).toBe(`[default]\naws_access_key_id = KGAKABCDEFGHIJKLMNOP\naws_secret_access_key = ${key.secretAccessKey}\n`);
  });

  it("writes json as aws iam create-access-key prints it", () => {
    expect(JSON.parse(downloadContent("json", key))).toEqual({
      AccessKey: { UserName: "alice", AccessKeyId: "KGAKABCDEFGHIJKLMNOP", Status: "Active", SecretAccessKey: key.secretAccessKey, CreateDate: "2026-11-29T06:00:00Z" },
    });
  });

  it.each([
    [["csv"], "--download takes a format and a file"],
    [["csv", "a", "b"], "--download takes a format and a file"],
    [["pdf", "a"], '--download format must be one of csv, env, ini, json, not "pdf"'],
  ])("refuses --download %j, naming the rule", (values, message) => {
    expect(() => parseDownload(values)).toThrow(message);
  });

  it("claims a new file with mode 0600 and refuses one that exists, leaving it as it was", async () => {
    const dir = await mkdtemp(join(tmpdir(), "downloads-"));
    const file = await SecretFile.claim(join(dir, "key.csv"));
    await file.write("content");
    expect((await stat(join(dir, "key.csv"))).mode & 0o777).toBe(0o600);
    await expect(SecretFile.claim(join(dir, "key.csv"))).rejects.toThrow(`${join(dir, "key.csv")} exists: refusing to overwrite it`);
    expect(await readFile(join(dir, "key.csv"), "utf8")).toBe("content");
  });

  it("removes a claimed file when no key came of it", async () => {
    const dir = await mkdtemp(join(tmpdir(), "downloads-"));
    const file = await SecretFile.claim(join(dir, "key.env"));
    await file.abandon();
    await expect(stat(join(dir, "key.env"))).rejects.toThrow(/ENOENT/);
  });
});
