import { describe, expect, it } from "vitest";
import { alibabaAccessKeyCsv, awsAccessKeysCsv, consoleCsvFiles, huaweiCredentialsCsv } from "../../../src/credentials/console-csv.js";

const key = { user: "alice", accessKeyId: "KGAKABCDEFGHIJKLMNOP", secretAccessKey: "abcdefghij-_KLMNOPQRSTUVWXYZ0123456789ab" };
const bytes = (text: string): string => Buffer.from(text, "utf8").toString("hex");

describe("console CSV downloads", () => {
  it("AWS: a UTF-8 byte order mark, then two CRLF-ended rows without a user column", () => {
    const expected = Buffer.concat([
      Buffer.from([0xef, 0xbb, 0xbf]),
      Buffer.from(`Access key ID,Secret access key\r\n${key.accessKeyId},${key.secretAccessKey}\r\n`, "ascii"),
    ]);
    expect(bytes(awsAccessKeysCsv(key))).toBe(expected.toString("hex"));
  });

  it("Alibaba Cloud: AccessKey ID and AccessKey Secret, CRLF rows, no byte order mark", () => {
    expect(alibabaAccessKeyCsv(key)).toBe(`AccessKey ID,AccessKey Secret\r\n${key.accessKeyId},${key.secretAccessKey}\r\n`);
  });

  it("Huawei Cloud: the user name first and in quotes, CRLF rows, no byte order mark", () => {
    expect(huaweiCredentialsCsv(key)).toBe(`User Name,Access Key Id,Secret Access Key\r\n"alice",${key.accessKeyId},${key.secretAccessKey}\r\n`);
  });

  it("a user name holding a comma stays one field", () => {
    expect(huaweiCredentialsCsv({ ...key, user: "ops,ci" }).split("\r\n")[1]).toBe(`"ops,ci",${key.accessKeyId},${key.secretAccessKey}`);
  });

  it("names each file as a valid Secret data key", () => {
    const names = Object.keys(consoleCsvFiles(key));
    expect(names).toEqual(["accessKeys.csv", "AccessKey.csv", "credentials.csv"]);
    for (const name of names) expect(name).toMatch(/^[-._a-zA-Z0-9]+$/);
  });
});
