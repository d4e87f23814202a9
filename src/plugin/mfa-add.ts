import type { Command } from "commander";
import QRCode from "qrcode";
import { API_VERSION } from "../api/group.js";
import { MFA_DEVICE_KIND, MFA_DEVICE_PLURAL } from "../api/mfadevice.js";
import { parseDuration } from "../duration.js";
import { keyNamePrefix } from "./access-keys.js";
import { withExamples } from "./command.js";
import { PluginError } from "./exit.js";
import { mfaCodeAnnotations, mfaCodeFor, NEXT_CODE_WANTED, withMfaCode } from "./mfa-code.js";
import { bindingOutcome, defaultDeviceName, seedIssuance } from "./mfa-devices.js";
import { SecretFile } from "./downloads.js";
import { ask, canAsk } from "./prompt.js";
import { type KeygateObject, Kind } from "./resources.js";
import { userOrSelf } from "./self.js";
import { type Session, sessionOf } from "./session.js";
import { withNewDevice } from "./unbound-device.js";
import { printWarnings } from "./warnings.js";
import { waitForObject } from "./watch.js";

interface MfaAddOptions {
  name?: string;
  deviceName?: string;
  png?: string;
  mfaCode?: string;
  timeout: string;
}

const CODE = /^\d{6}$/;

function manifest(session: Session, user: string, options: MfaAddOptions, code: string | undefined): KeygateObject {
  const naming = options.name === undefined ? { generateName: `${keyNamePrefix(user)}mfa-` } : { name: options.name };
  return {
    apiVersion: API_VERSION,
    kind: MFA_DEVICE_KIND,
    metadata: { ...naming, namespace: session.namespace, annotations: mfaCodeAnnotations(code) },
    spec: { user, type: "Virtual", deviceName: options.deviceName ?? defaultDeviceName(user) },
  };
}

async function readSeed(session: Session, secretName: string): Promise<{ uri: string; png: Buffer }> {
  const secret = await session.core.readNamespacedSecret({ name: secretName, namespace: session.namespace });
  return { uri: Buffer.from(secret.data?.uri ?? "", "base64").toString("utf8"), png: Buffer.from(secret.data?.["qr.png"] ?? "", "base64") };
}

async function askCode(question: string): Promise<string> {
  const code = await ask(question);
  if (!CODE.test(code)) throw new PluginError(`a code is 6 digits, not "${code}"`);
  return code;
}

async function showSeed(session: Session, name: string, options: MfaAddOptions, file: SecretFile | undefined): Promise<void> {
  const secretName = await waitForObject(session, { plural: MFA_DEVICE_PLURAL, name }, seedIssuance, parseDuration(options.timeout, "--timeout"));
  const seed = await readSeed(session, secretName);
  process.stdout.write(`Scan this QR code with your authenticator app (it is shown this once):\n\n${await QRCode.toString(seed.uri, { type: "terminal", small: true })}\n`);
  if (file) {
    await file.write(seed.png);
    process.stdout.write(`The QR code is also in ${file.path} (PNG, mode 0600).\n`);
  }
}

// Two codes of consecutive 30-second steps prove the app holds the seed (docs/mfadevices.md).
async function bind(session: Session, name: string, options: MfaAddOptions): Promise<string> {
  const code1 = await askCode("Code shown by the app: ");
  const code2 = await askCode("Next code, once the app shows a new one: ");
  const annotations = mfaCodeAnnotations(await mfaCodeFor(session, undefined, NEXT_CODE_WANTED));
  const devices = new Kind(session, MFA_DEVICE_PLURAL);
  printWarnings((await devices.mergePatch(name, { metadata: { annotations }, spec: { verification: { code1, code2 } } })).warnings);
  const bound = await waitForObject(session, { plural: MFA_DEVICE_PLURAL, name }, bindingOutcome, parseDuration(options.timeout, "--timeout"));
  return `MFA device ${bound.spec.deviceName} (mfadevice/${name}) is bound to user ${bound.spec.user} in namespace ${session.namespace}.\n`;
}

// A device that was not bound is removed again: the next attempt starts with a new seed the app
// has not half-learnt.
async function mfaAdd(userArgument: string | undefined, options: MfaAddOptions, command: Command): Promise<void> {
  if (!canAsk()) throw new PluginError("mfa add asks for two codes of the app: run it in a terminal");
  parseDuration(options.timeout, "--timeout");
  const session = sessionOf(command);
  const user = await userOrSelf(session, userArgument);
  const file = options.png === undefined ? undefined : await SecretFile.claim(options.png);
  try {
    const code = await mfaCodeFor(session, options.mfaCode);
    await withNewDevice(session, manifest(session, user, options, code), "mfa add", async (name) => {
      process.stderr.write(`Waiting for mfadevice/${name}'s seed...\n`);
      await showSeed(session, name, options, file);
      process.stdout.write(await bind(session, name, options));
    });
  } catch (error) {
    await file?.abandon();
    throw error;
  }
}

export function registerMfaAdd(mfa: Command): void {
  const command = mfa
    .command("add")
    .description("add a virtual MFA device for USER (default: yourself): scan the QR code, type two codes, bound")
    .argument("[user]", "the keygate user the device belongs to (default: the user you are)")
    .option("--device-name <name>", "the device's name, as the consoles ask for it (default: <user>-phone)")
    .option("--name <name>", "the MfaDevice's name (default: generated from the user name)")
    .option("--png <file>", "also write the QR code to FILE (PNG, mode 0600, never overwriting)")
    .option("--timeout <duration>", "how long to wait for the seed, and for the binding", "60s");
  withExamples(withMfaCode(command), [
    "# your own phone: scan, then type the code shown and the next one",
    "kubectl keygate mfa add",
    "# for bob, keeping the QR code as an image too",
    "kubectl keygate mfa add bob -n team-a --device-name bob-pixel --png ./bob-mfa.png",
    "# bob's phone under operation protection: a code of your own device; a later one is asked for to bind",
    "kubectl keygate mfa add bob -n team-a --mfa-code 123456",
  ]).action(mfaAdd);
}
