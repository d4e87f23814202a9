import { mkdtemp, readFile, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { sessionSecretData } from "../../../src/kinds/temporarycredential/issued-secret.js";
import { checkProfileName, sharedCredentialsFile, withProfile, writeProfile } from "../../../src/plugin/aws-profiles.js";
import { exportLines } from "../../../src/plugin/session-exports.js";
import type { MfaDevice } from "../../../src/api/mfadevice.js";
import { mfaDeviceFor, sessionIssuance, sessionSeconds } from "../../../src/plugin/sessions.js";

const material = { accessKeyId: "KGASABCDEFGHIJKLMNOP", secretAccessKey: "s".repeat(40), sessionToken: "tok+en/=", expiration: "2026-11-29T08:00:00Z" };
const data = sessionSecretData(material);
const section = "[work]\naws_access_key_id = NEW\naws_secret_access_key = S\naws_session_token = T\n";

describe("the export lines of a session", () => {
  it("prints AWS_* for aws, from the issued Secret's keys", () => {
    expect(exportLines("aws", data)).toBe(
      "export AWS_ACCESS_KEY_ID=KGASABCDEFGHIJKLMNOP\n" + `export AWS_SECRET_ACCESS_KEY=${material.secretAccessKey}\n` + "export AWS_SESSION_TOKEN=tok+en/=\n",
    );
  });

  it("prints the three clouds' variables, in AWS, Alibaba, Huawei order, for all", () => {
    const names = exportLines("all", data).split("\n").filter(Boolean).map((line) => line.split("=")[0]);
    expect(names).toEqual([
      "export AWS_ACCESS_KEY_ID",
      "export AWS_SECRET_ACCESS_KEY",
      "export AWS_SESSION_TOKEN",
      "export ALIBABA_CLOUD_ACCESS_KEY_ID",
      "export ALIBABA_CLOUD_ACCESS_KEY_SECRET",
      "export ALIBABA_CLOUD_SECURITY_TOKEN",
      "export HUAWEICLOUD_SDK_AK",
      "export HUAWEICLOUD_SDK_SK",
      "export HUAWEICLOUD_SDK_SECURITY_TOKEN",
    ]);
  });

  it("quotes a value the shell would split or expand", () => {
    expect(exportLines("huawei", { ...data, HUAWEICLOUD_SDK_SK: "a b'$c" })).toContain("export HUAWEICLOUD_SDK_SK='a b'\\''$c'\n");
  });

  it("fails rather than print an empty variable the Secret lacks", () => {
    expect(() => exportLines("alibaba", { AWS_ACCESS_KEY_ID: "x" })).toThrow("the issued Secret has no ALIBABA_CLOUD_ACCESS_KEY_ID");
  });
});

describe("a profile of the AWS credentials file", () => {
  it("is appended, after a blank line, when the file has no such profile", () => {
    expect(withProfile("[default]\naws_access_key_id = A\n", "work", section)).toBe(`[default]\naws_access_key_id = A\n\n${section}`);
  });

  it("is the whole file when there was none", () => {
    expect(withProfile("", "work", section)).toBe(section);
  });

  it("replaces the profile in place, keeping the others, their comments and the blank line between", () => {
    const before = "# mine\n[default]\naws_access_key_id = A\n\n[work]\naws_access_key_id = OLD\naws_session_token = OLDTOKEN\n\n[other]\nx = 1\n";
    expect(withProfile(before, "work", section)).toBe(`# mine\n[default]\naws_access_key_id = A\n\n${section}\n[other]\nx = 1\n`);
  });

  it("matches the profile's name exactly, not a profile it is the prefix of", () => {
    expect(withProfile("[work-old]\nx = 1\n", "work", section)).toBe(`[work-old]\nx = 1\n\n${section}`);
  });

  it("has a name that cannot break the file's sections", () => {
    expect(checkProfileName("keygate-mfa")).toBe("keygate-mfa");
    expect(() => checkProfileName("a]\n[b")).toThrow('--profile must be 1-64 letters, digits or _ . @ + -, not "a]\n[b"');
  });

  it("is read from AWS_SHARED_CREDENTIALS_FILE when set, as the AWS CLI does", () => {
    expect(sharedCredentialsFile({ AWS_SHARED_CREDENTIALS_FILE: "/x/creds" })).toBe("/x/creds");
    expect(sharedCredentialsFile({})).toMatch(/\.aws\/credentials$/);
  });

  it("is written to a file of mode 0600, creating its folder, and an existing file becomes 0600 too", async () => {
    const dir = await mkdtemp(join(tmpdir(), "aws-"));
    const path = join(dir, "new", "credentials");
    await writeProfile(path, "work", section);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    const shared = join(dir, "shared");
    await writeFile(shared, "[default]\nx = 1\n", { mode: 0o644 });
    await writeProfile(shared, "work", section);
    expect((await stat(shared)).mode & 0o777).toBe(0o600);
    expect(await readFile(shared, "utf8")).toBe(`[default]\nx = 1\n\n${section}`);
  });
});

describe("a session's duration and issuance", () => {
  it("takes 15m to 24h and refuses the rest naming --duration", () => {
    expect(sessionSeconds("1h")).toBe(3600);
    expect(sessionSeconds("15m")).toBe(900);
    expect(() => sessionSeconds("10m")).toThrow("--duration must be from 15m to 24h, not 10m");
    expect(() => sessionSeconds("2d")).toThrow("--duration must be from 15m to 24h, not 2d");
    expect(() => sessionSeconds("an hour")).toThrow(/--duration: "an hour" is not a duration/);
  });

  const credential = (status: Record<string, unknown>) => ({ apiVersion: "iam.keygate.dev/v1alpha1", kind: "TemporaryCredential", metadata: { name: "s", generation: 1 }, spec: {}, status });
  const ready = (status: string, reason: string, message = "m") => ({ conditions: [{ type: "Ready", status, reason, message, lastTransitionTime: "2026-11-29T06:00:00Z" }] });

  it("waits while pending, and is done once the Secret and expiry are named", () => {
    expect(sessionIssuance(credential(ready("False", "Pending")))).toBeUndefined();
    const issued = { ...ready("True", "Issued"), secretRef: { name: "s-credentials" }, expiration: material.expiration, mfaAuthenticated: true };
    expect(sessionIssuance(credential(issued))).toEqual({ done: { secretName: "s-credentials", expiration: material.expiration, mfaAuthenticated: true } });
  });

  it("fails with the controller's reason and message for a refused code", () => {
    expect(sessionIssuance(credential(ready("False", "MfaFailed", "the code is not a current code")))).toEqual({
      failed: "temporarycredential/s was not issued (MfaFailed): the code is not a current code",
    });
  });

  it("fails, saying so, for a session that expired before it could be shown", () => {
    const expired = { ...ready("False", "Expired", "session KGAS… expired at 2026-11-29T07:00:00Z; its Secret was deleted"), expiration: material.expiration };
    expect(sessionIssuance(credential(expired))).toEqual({
      failed: "temporarycredential/s was not issued (Expired): session KGAS… expired at 2026-11-29T07:00:00Z; its Secret was deleted",
    });
  });
});

describe("the MFA device a session's code goes with", () => {
  const phone = { spec: { deviceName: "alice-phone", type: "Virtual" } } as MfaDevice;
  const key = { spec: { deviceName: "alice-key", type: "SecurityKey" } } as MfaDevice;
  it("is the user's bound virtual device unless one is named", () => {
    expect(mfaDeviceFor("alice", [phone], undefined)).toBe("alice-phone");
    expect(mfaDeviceFor("alice", [key, phone], undefined)).toBe("alice-phone");
    expect(mfaDeviceFor("alice", [], undefined)).toBeUndefined();
    expect(mfaDeviceFor("alice", [key], undefined)).toBeUndefined();
  });

  it("refuses a security key named for a code, pointing to the assertion", () => {
    expect(() => mfaDeviceFor("alice", [key, phone], "alice-key")).toThrow("MFA device alice-key of user alice is a security key, which takes no code");
  });

  it("refuses a named device the user has not bound, naming the bound ones", () => {
    expect(() => mfaDeviceFor("alice", [phone], "tablet")).toThrow("user alice has no bound MFA device tablet (bound: alice-phone); nothing changed");
  });

  it("takes the name as given when the caller may not list devices", () => {
    expect(mfaDeviceFor("alice", undefined, "tablet")).toBe("tablet");
  });
});
