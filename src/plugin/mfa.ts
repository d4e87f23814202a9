import type { Command } from "commander";
import { MFA_DEVICE_PLURAL } from "../api/mfadevice.js";
import { CONFIRM_DELETE_ANNOTATION, CONFIRM_DELETE_VALUE } from "../labels.js";
import { type OutputFormat, type PluginCommand, withExamples, withOutput, withYes } from "./command.js";
import { PluginError } from "./exit.js";
import { mfaCodeAnnotations, mfaCodeFor, withMfaCode } from "./mfa-code.js";
import { registerMfaAdd } from "./mfa-add.js";
import { registerMfaAddKey } from "./mfa-add-key.js";
import { asMfaDevice, MFA_LIST_HEADERS, MFA_LIST_WIDE_HEADERS, mfaDeviceRow } from "./mfa-devices.js";
import { renderObjects, renderTable } from "./output.js";
import { confirmTyped } from "./prompt.js";
import { Kind } from "./resources.js";
import { userOrSelf } from "./self.js";
import { sessionOf } from "./session.js";
import { printWarnings } from "./warnings.js";

async function mfaList(userArgument: string | undefined, options: { output?: OutputFormat }, command: Command): Promise<void> {
  const session = sessionOf(command);
  const user = await userOrSelf(session, userArgument);
  const devices = await new Kind(session, MFA_DEVICE_PLURAL).list(`spec.user=${user}`);
  if (options.output === "json" || options.output === "yaml") {
    process.stdout.write(renderObjects(options.output, devices, false));
    return;
  }
  if (devices.length === 0) {
    process.stderr.write(`No MFA devices for user ${user} in namespace ${session.namespace}.\n`);
    return;
  }
  const wide = options.output === "wide";
  const rows = devices.map((device) => mfaDeviceRow(asMfaDevice(device), Date.now(), wide));
  process.stdout.write(renderTable(wide ? MFA_LIST_WIDE_HEADERS : MFA_LIST_HEADERS, rows));
}

interface MfaRemoveOptions {
  yes?: boolean;
  mfaCode?: string;
}

// A bound device is removed as the consoles ask: type YES. The webhook holds the delete until the
// device carries the confirmation, and under operation protection the confirmation carries a code.
async function mfaRemove(name: string, options: MfaRemoveOptions, command: Command): Promise<void> {
  const session = sessionOf(command);
  const devices = new Kind(session, MFA_DEVICE_PLURAL);
  const found = await devices.get(name);
  if (found === undefined) throw new PluginError(`mfadevice ${name} not found in namespace ${session.namespace}; nothing changed`);
  const device = asMfaDevice(found);
  const bound = device.status?.bound === true;
  process.stderr.write(
    `MFA device ${device.spec.deviceName} of user ${device.spec.user} is ${bound ? "bound: removing it unbinds it, and sign-ins that need MFA stop working for that user" : "not bound"}.\n`,
  );
  if (options.yes !== true) await confirmTyped(`removing mfadevice/${name}`, CONFIRM_DELETE_VALUE);
  if (bound) {
    const code = await mfaCodeFor(session, options.mfaCode);
    const annotations = { [CONFIRM_DELETE_ANNOTATION]: CONFIRM_DELETE_VALUE, ...mfaCodeAnnotations(code) };
    printWarnings((await devices.mergePatch(name, { metadata: { annotations } })).warnings);
  }
  printWarnings(await devices.delete(name));
  process.stdout.write(`mfadevice/${name} removed: user ${device.spec.user} no longer has MFA device ${device.spec.deviceName}.\n`);
}

function registerList(mfa: Command): void {
  const command = mfa
    .command("list")
    .description("list USER's MFA devices (default: yours): name, user, type, device, bound, age")
    .argument("[user]", "the keygate user (default: the user you are)");
  withExamples(withOutput(command), ["kubectl keygate mfa list", "kubectl keygate mfa list bob -n team-a -o wide"]).action(mfaList);
}

function registerRemove(mfa: Command): void {
  const command = mfa
    .command("remove")
    .description("remove (unbind) an MFA device, after typing YES as the consoles ask")
    .argument("<name>", "the MfaDevice's name, as mfa list shows it");
  withExamples(withMfaCode(withYes(command)), [
    "kubectl keygate mfa remove alice-mfa-x7k2p",
    "# in a script, under operation protection",
    "kubectl keygate mfa remove alice-mfa-x7k2p --yes --mfa-code 123456",
  ]).action(mfaRemove);
}

export const mfaCommand: PluginCommand = {
  register(program) {
    const mfa = program.command("mfa").description("MFA devices: add (an authenticator app), add-key (a security key), list, remove");
    withExamples(mfa, ["kubectl keygate mfa add", "kubectl keygate mfa add-key", "kubectl keygate mfa list", "kubectl keygate mfa remove alice-mfa-x7k2p"]);
    registerMfaAdd(mfa);
    registerMfaAddKey(mfa);
    registerList(mfa);
    registerRemove(mfa);
  },
};
