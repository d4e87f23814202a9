import type { Command } from "commander";
import { API_VERSION } from "../api/group.js";
import { MFA_DEVICE_KIND, MFA_DEVICE_PLURAL, type MfaDevice } from "../api/mfadevice.js";
import type { RegistrationResponse } from "../api/webauthn.js";
import { parseDuration } from "../duration.js";
import { keyNamePrefix } from "./access-keys.js";
import { withExamples } from "./command.js";
import { type HandedOver, verdictInTime } from "./answer-clock.js";
import { errorLine } from "./errors.js";
import { PluginError, UsageError } from "./exit.js";
import { mfaCodeAnnotations, mfaCodeFor, NEXT_CODE_WANTED, withMfaCode } from "./mfa-code.js";
import { asMfaDevice, defaultDeviceName, registrationOffer, registrationOutcome } from "./mfa-devices.js";
import { serveRegistrationPage, type Verdict } from "./registration-page.js";
import { type KeygateObject, Kind } from "./resources.js";
import { userOrSelf } from "./self.js";
import { type Session, sessionOf } from "./session.js";
import { withNewDevice } from "./unbound-device.js";
import { printWarnings } from "./warnings.js";
import { waitForObject } from "./watch.js";

interface MfaAddKeyOptions {
  name?: string;
  deviceName?: string;
  port: string;
  mfaCode?: string;
  timeout: string;
}

function manifest(session: Session, user: string, options: MfaAddKeyOptions, code: string | undefined): KeygateObject {
  const naming = options.name === undefined ? { generateName: `${keyNamePrefix(user)}key-` } : { name: options.name };
  return {
    apiVersion: API_VERSION,
    kind: MFA_DEVICE_KIND,
    metadata: { ...naming, namespace: session.namespace, annotations: mfaCodeAnnotations(code) },
    spec: { user, type: "SecurityKey", deviceName: options.deviceName ?? defaultDeviceName(user, "key") },
  };
}

function parsePort(text: string): number {
  const port = Number(text);
  if (!/^\d{1,5}$/.test(text) || port > 65535) throw new UsageError(`--port takes a port number (0: any free one), not "${text}"`);
  return port;
}

// The challenge as it stands when the page asks: the operator renews one that ran out.
async function currentOptions(devices: Kind, name: string): Promise<string | undefined> {
  const registration = asMfaDevice((await devices.get(name)) ?? {}).status?.registration;
  return registration !== undefined && Date.parse(registration.expiresAt) > Date.now() ? registration.options : undefined;
}

function registeredLine(session: Session, device: MfaDevice): string {
  return `Security key ${device.spec.deviceName} (mfadevice/${device.metadata.name}) is registered to user ${device.spec.user} in namespace ${session.namespace}.`;
}

// The id tells the person's key from one another local process might have registered first:
// the page shows the id of the credential the touched key made.
function credentialLine(device: MfaDevice): string {
  return `Registered credential: ${device.status?.credentialId ?? "unknown"}. The page shows the credential your key made: if the two differ, the registered key is not yours; remove it.`;
}

/**
 * The key's answer goes into spec.registration, as a person could apply it, with a code the
 * create did not use under operation protection; the controller judges it.
 */
async function submit(session: Session, name: string, response: RegistrationResponse, timeoutMs: number): Promise<MfaDevice> {
  const annotations = mfaCodeAnnotations(await mfaCodeFor(session, undefined, NEXT_CODE_WANTED));
  printWarnings((await new Kind(session, MFA_DEVICE_PLURAL).mergePatch(name, { metadata: { annotations }, spec: { registration: response } })).warnings);
  return waitForObject(session, { plural: MFA_DEVICE_PLURAL, name }, registrationOutcome, timeoutMs);
}

type Judged = { registered: MfaDevice } | { refused: unknown };

async function judge(session: Session, name: string, response: RegistrationResponse, timeoutMs: number): Promise<Judged> {
  try {
    return { registered: await submit(session, name, response, timeoutMs) };
  } catch (error) {
    return { refused: error };
  }
}

function pageVerdict(session: Session, judged: Judged): Verdict {
  if ("registered" in judged) return { ok: true, message: `${registeredLine(session, judged.registered)} You can close this page.` };
  return { ok: false, message: `${errorLine(judged.refused)}. Run kubectl keygate mfa add-key again.` };
}

/**
 * Serves the page until the key's answer is judged and the page told, or the time runs out
 * with no answer handed over; the terminal hears the verdict from the returned promise.
 */
async function runCeremony(session: Session, device: MfaDevice, port: number, timeoutMs: number): Promise<MfaDevice> {
  const name = device.metadata.name ?? "";
  const devices = new Kind(session, MFA_DEVICE_PLURAL);
  let handOver = (_answer: HandedOver<Judged>): void => undefined;
  const handedOver = new Promise<HandedOver<Judged>>((resolve) => (handOver = resolve));
  const answer = (response: RegistrationResponse): Promise<Verdict> => {
    const verdict = judge(session, name, response, timeoutMs);
    handOver({ verdict });
    return verdict.then((judged) => pageVerdict(session, judged));
  };
  const heading = `Security key ${device.spec.deviceName} for user ${device.spec.user} in namespace ${session.namespace}.`;
  const page = await serveRegistrationPage(port, heading, { options: () => currentOptions(devices, name), answer });
  process.stdout.write(`Open ${page.url} in a browser on this machine, press the button and touch your security key.\n`);
  let judged: Judged | undefined;
  try {
    judged = await verdictInTime(handedOver, timeoutMs);
    if (judged !== undefined) await page.answered;
  } finally {
    await page.close();
  }
  if (judged === undefined) throw new PluginError(`no answer from the page within ${timeoutMs / 1000}s`);
  if ("refused" in judged) throw judged.refused;
  return judged.registered;
}

async function mfaAddKey(userArgument: string | undefined, options: MfaAddKeyOptions, command: Command): Promise<void> {
  const timeoutMs = parseDuration(options.timeout, "--timeout");
  const port = parsePort(options.port);
  const session = sessionOf(command);
  const user = await userOrSelf(session, userArgument);
  const code = await mfaCodeFor(session, options.mfaCode);
  await withNewDevice(session, manifest(session, user, options, code), "mfa add-key", async (name, created) => {
    process.stderr.write(`Waiting for mfadevice/${name}'s registration challenge...\n`);
    await waitForObject(session, { plural: MFA_DEVICE_PLURAL, name }, registrationOffer, timeoutMs);
    const device = asMfaDevice((await new Kind(session, MFA_DEVICE_PLURAL).get(name)) ?? created);
    const registered = await runCeremony(session, device, port, timeoutMs);
    process.stdout.write(`${registeredLine(session, registered)}\n${credentialLine(registered)}\n`);
  });
}

export function registerMfaAddKey(mfa: Command): void {
  const command = mfa
    .command("add-key")
    .description("register a FIDO2 security key for USER (default: yourself) on a page this command serves on localhost")
    .argument("[user]", "the keygate user the key belongs to (default: the user you are)")
    .option("--device-name <name>", "the key's name, as the consoles ask for it (default: <user>-key)")
    .option("--name <name>", "the MfaDevice's name (default: generated from the user name)")
    .option("--port <port>", "the local port the page is served on (0: any free one)", "0")
    .option("--timeout <duration>", "how long to wait for the challenge, for the key's answer, and for its verdict", "5m");
  withExamples(withMfaCode(command), [
    "# your own key: open the page printed, press the button, touch the key",
    "kubectl keygate mfa add-key",
    "# for bob, on the port the operator's --webauthn-origins allow",
    "kubectl keygate mfa add-key bob -n team-a --device-name bob-yubikey --port 8400",
    "# under operation protection: a code of your phone for the create; a later one is asked for once the key answered",
    "kubectl keygate mfa add-key --mfa-code 123456",
  ]).action(mfaAddKey);
}
