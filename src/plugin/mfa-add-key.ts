import type { Command } from "commander";
import { API_VERSION } from "../api/group.js";
import { MFA_DEVICE_KIND, MFA_DEVICE_PLURAL, type MfaDevice } from "../api/mfadevice.js";
import type { RegistrationResponse } from "../api/webauthn.js";
import { parseDuration } from "../duration.js";
import { keyNamePrefix } from "./access-keys.js";
import { withExamples } from "./command.js";
import { errorLine } from "./errors.js";
import { PluginError, UsageError } from "./exit.js";
import { asMfaDevice, defaultDeviceName, registrationOffer, registrationOutcome } from "./mfa-devices.js";
import { serveRegistrationPage, type Verdict } from "./registration-page.js";
import { type KeygateObject, Kind } from "./resources.js";
import { userOrSelf } from "./self.js";
import { type Session, sessionOf } from "./session.js";
import { printWarnings } from "./warnings.js";
import { waitForObject } from "./watch.js";

interface MfaAddKeyOptions {
  name?: string;
  deviceName?: string;
  port: string;
  timeout: string;
}

function manifest(session: Session, user: string, options: MfaAddKeyOptions): KeygateObject {
  const naming = options.name === undefined ? { generateName: `${keyNamePrefix(user)}key-` } : { name: options.name };
  return {
    apiVersion: API_VERSION,
    kind: MFA_DEVICE_KIND,
    metadata: { ...naming, namespace: session.namespace },
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

/** The key's answer goes into spec.registration, as a person could apply it; the controller judges it. */
async function submit(session: Session, name: string, response: RegistrationResponse, timeoutMs: number): Promise<MfaDevice> {
  printWarnings((await new Kind(session, MFA_DEVICE_PLURAL).mergePatch(name, { spec: { registration: response } })).warnings);
  return waitForObject(session, { plural: MFA_DEVICE_PLURAL, name }, registrationOutcome, timeoutMs);
}

type Judged = { registered: MfaDevice } | { refused: unknown };

/**
 * Serves the page until the key's answer is judged and the page told, or the time runs out;
 * the terminal hears the verdict from the returned promise.
 */
async function runCeremony(session: Session, device: MfaDevice, port: number, timeoutMs: number): Promise<MfaDevice> {
  const name = device.metadata.name ?? "";
  const devices = new Kind(session, MFA_DEVICE_PLURAL);
  // Set by the answer, which runs while the page is served.
  let judged = { refused: new PluginError(`no answer from the page within ${timeoutMs / 1000}s`) } as Judged;
  const answer = async (response: RegistrationResponse): Promise<Verdict> => {
    try {
      const registered = await submit(session, name, response, timeoutMs);
      judged = { registered };
      return { ok: true, message: `${registeredLine(session, registered)} You can close this page.` };
    } catch (error) {
      judged = { refused: error };
      return { ok: false, message: `${errorLine(error)}. Run kubectl keygate mfa add-key again.` };
    }
  };
  const heading = `Security key ${device.spec.deviceName} for user ${device.spec.user} in namespace ${session.namespace}.`;
  const page = await serveRegistrationPage(port, heading, { options: () => currentOptions(devices, name), answer });
  process.stdout.write(`Open ${page.url} in a browser on this machine, press the button and touch your security key.\n`);
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([page.answered, new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)))]);
  } finally {
    clearTimeout(timer);
    await page.close();
  }
  if ("refused" in judged) throw judged.refused;
  return judged.registered;
}

// A key that was not registered is removed again, as `mfa add` does: the account is left as it was.
async function removeUnregistered(session: Session, name: string): Promise<string> {
  try {
    await new Kind(session, MFA_DEVICE_PLURAL).delete(name);
    return `mfadevice/${name} was removed again; run mfa add-key once more`;
  } catch (error) {
    return `mfadevice/${name} could not be removed (${errorLine(error)})`;
  }
}

async function mfaAddKey(userArgument: string | undefined, options: MfaAddKeyOptions, command: Command): Promise<void> {
  const timeoutMs = parseDuration(options.timeout, "--timeout");
  const port = parsePort(options.port);
  const session = sessionOf(command);
  const user = await userOrSelf(session, userArgument);
  let name: string | undefined;
  try {
    const created = await new Kind(session, MFA_DEVICE_PLURAL).create(manifest(session, user, options));
    printWarnings(created.warnings);
    name = created.object.metadata?.name ?? "";
    process.stderr.write(`Waiting for mfadevice/${name}'s registration challenge...\n`);
    await waitForObject(session, { plural: MFA_DEVICE_PLURAL, name }, registrationOffer, timeoutMs);
    const device = asMfaDevice((await new Kind(session, MFA_DEVICE_PLURAL).get(name)) ?? created.object);
    process.stdout.write(`${registeredLine(session, await runCeremony(session, device, port, timeoutMs))}\n`);
  } catch (error) {
    if (name === undefined) throw error;
    throw new PluginError(`${errorLine(error)}; ${await removeUnregistered(session, name)}`);
  }
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
  withExamples(command, [
    "# your own key: open the page printed, press the button, touch the key",
    "kubectl keygate mfa add-key",
    "# for bob, on the port the operator's --webauthn-origins allow",
    "kubectl keygate mfa add-key bob -n team-a --device-name bob-yubikey --port 8400",
  ]).action(mfaAddKey);
}
