import { type Command, Option } from "commander";
import { API_VERSION } from "../api/group.js";
import { MFA_DEVICE_PLURAL, type MfaDevice } from "../api/mfadevice.js";
import { TEMPORARY_CREDENTIAL_KIND, TEMPORARY_CREDENTIAL_PLURAL } from "../api/temporarycredential.js";
import { awsCredentialsProfile } from "../credentials/aws-credentials-file.js";
import { parseDuration } from "../duration.js";
import { isApiStatus } from "../runtime/errors.js";
import { keyNamePrefix } from "./access-keys.js";
import { type PluginCommand, withExamples } from "./command.js";
import { errorLine } from "./errors.js";
import { PluginError } from "./exit.js";
import { checkMfaCode } from "./mfa-code.js";
import { asMfaDevice } from "./mfa-devices.js";
import { ask, canAsk } from "./prompt.js";
import { Kind } from "./resources.js";
import { checkProfileName, sharedCredentialsFile, writeProfile } from "./aws-profiles.js";
import { userOrSelf } from "./self.js";
import { exportLines, SESSION_FORMATS, type SessionFormat } from "./session-exports.js";
import { type IssuedSession, mfaDeviceFor, sessionIssuance, sessionSeconds } from "./sessions.js";
import { type Session, sessionOf } from "./session.js";
import { printWarnings } from "./warnings.js";
import { waitForObject } from "./watch.js";

interface SessionOptions {
  duration: string;
  mfaCode?: string;
  mfaDevice?: string;
  format: SessionFormat;
  profile?: string;
  timeout: string;
}

interface MfaClaim {
  readonly deviceName: string;
  readonly code: string;
}

// A caller who may not list devices cannot tell which are bound (undefined); the webhook still
// says when a code is needed, and the controller judges the device named.
async function boundDevices(session: Session, user: string): Promise<MfaDevice[] | undefined> {
  try {
    const devices = await new Kind(session, MFA_DEVICE_PLURAL).list(`spec.user=${user}`);
    return devices.map(asMfaDevice).filter((device) => device.status?.bound === true);
  } catch (error) {
    if (isApiStatus(error, 403)) return undefined;
    throw error;
  }
}

// The flag's code; else, at a terminal and with a bound device, one the person types (empty: none).
async function mfaClaim(session: Session, user: string, options: SessionOptions): Promise<MfaClaim | undefined> {
  const deviceName = mfaDeviceFor(user, await boundDevices(session, user), options.mfaDevice);
  if (options.mfaCode !== undefined) {
    const name = deviceName ?? options.mfaDevice;
    if (name === undefined) throw new PluginError(`user ${user} has no bound MFA device for --mfa-code; name one with --mfa-device`);
    return { deviceName: name, code: checkMfaCode(options.mfaCode) };
  }
  if (deviceName === undefined || !canAsk()) return undefined;
  const typed = await ask(`MFA code of ${deviceName} (empty for a session without MFA): `);
  return typed === "" ? undefined : { deviceName, code: checkMfaCode(typed) };
}

async function readSessionSecret(session: Session, name: string): Promise<Record<string, string>> {
  const secret = await session.core.readNamespacedSecret({ name, namespace: session.namespace });
  return Object.fromEntries(Object.entries(secret.data ?? {}).map(([key, value]) => [key, Buffer.from(value, "base64").toString("utf8")]));
}

async function issue(session: Session, user: string, options: SessionOptions, mfa: MfaClaim | undefined): Promise<{ name: string; issued: IssuedSession }> {
  const credentials = new Kind(session, TEMPORARY_CREDENTIAL_PLURAL);
  const created = await credentials.create({
    apiVersion: API_VERSION,
    kind: TEMPORARY_CREDENTIAL_KIND,
    metadata: { generateName: `${keyNamePrefix(user)}session-`, namespace: session.namespace },
    spec: { user, durationSeconds: sessionSeconds(options.duration), ...(mfa === undefined ? {} : { mfa }) },
  });
  printWarnings(created.warnings);
  const name = created.object.metadata?.name ?? "";
  process.stderr.write(`Waiting for temporarycredential/${name} to be issued...\n`);
  try {
    return { name, issued: await waitForObject(session, { plural: TEMPORARY_CREDENTIAL_PLURAL, name }, sessionIssuance, parseDuration(options.timeout, "--timeout")) };
  } catch (error) {
    // A refused session stays refused for good (its spec cannot change): it is removed, so nothing is left behind.
    await credentials.delete(name);
    throw new PluginError(`${errorLine(error)}; it was removed`);
  }
}

async function startSession(userArgument: string | undefined, options: SessionOptions, command: Command): Promise<void> {
  const seconds = sessionSeconds(options.duration);
  if (options.profile !== undefined) checkProfileName(options.profile);
  parseDuration(options.timeout, "--timeout");
  const session = sessionOf(command);
  const user = await userOrSelf(session, userArgument);
  const mfa = await mfaClaim(session, user, options);
  const { name, issued } = await issue(session, user, options, mfa);
  const data = await readSessionSecret(session, issued.secretName);
  if (Date.parse(issued.expiration) <= Date.now()) throw new PluginError(`temporarycredential/${name} expired at ${issued.expiration}`);
  const summary = `temporarycredential/${name}: ${seconds / 60} minutes for user ${user}, ${issued.mfaAuthenticated ? "MFA-authenticated" : "without MFA"}, expires ${issued.expiration}`;
  if (options.profile === undefined) {
    process.stderr.write(`# ${summary}\n`);
    process.stdout.write(exportLines(options.format, data));
    return;
  }
  const file = sharedCredentialsFile();
  const credentials = { accessKeyId: data.accessKeyId ?? "", secretAccessKey: data.secretAccessKey ?? "", sessionToken: data.sessionToken ?? "" };
  await writeProfile(file, options.profile, awsCredentialsProfile(options.profile, credentials));
  process.stdout.write(`Profile ${options.profile} written to ${file} (mode 0600). ${summary}.\nUse it with: aws --profile ${options.profile} ...\n`);
}

export const sessionCommand: PluginCommand = {
  register(program) {
    const command = program
      .command("session")
      .description("get temporary credentials (an STS-style session) for USER (default: yourself), as export lines or an AWS profile")
      .argument("[user]", "the keygate user the session is for (default: the user you are)")
      .option("--duration <duration>", "how long the session lasts, 15m to 24h", "1h")
      .option("--mfa-code <code>", "a current code of the user's bound MFA device (asked for in a terminal when the user has one)")
      .option("--mfa-device <name>", "the MFA device the code is from (default: the user's bound device)")
      .addOption(new Option("--format <cloud>", "which SDKs' variables to print").choices(SESSION_FORMATS).default("all"))
      .option("--profile <name>", "write the session as this profile of the AWS credentials file (AWS_SHARED_CREDENTIALS_FILE, else ~/.aws/credentials) instead of printing it")
      .option("--timeout <duration>", "how long to wait for the session to be issued", "60s");
    withExamples(command, [
      "# this shell, for every cloud's SDK",
      "eval \"$(kubectl keygate session --duration 1h)\"",
      "# only AWS_*, with an MFA code",
      "eval \"$(kubectl keygate session --format aws --mfa-code 123456)\"",
      "# a profile in ~/.aws/credentials, as aws sts get-session-token users keep one",
      "kubectl keygate session --profile keygate-mfa --duration 12h && aws --profile keygate-mfa s3 ls",
    ]).action(startSession);
  },
};
