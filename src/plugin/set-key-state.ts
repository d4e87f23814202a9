import { stringify } from "yaml";
import { ACCESS_KEY_PLURAL, type AccessKey, type AccessKeyState } from "../api/accesskey.js";
import { findCondition } from "../runtime/conditions.js";
import type { DryRunMode } from "./command.js";
import { findAccessKey, keyLabel } from "./find-key.js";
import { lastUseText } from "./key-table.js";
import { mfaCodeAnnotations, mfaCodeFor } from "./mfa-code.js";
import { confirmYesNo, requireTerminal } from "./prompt.js";
import { Kind } from "./resources.js";
import type { Session } from "./session.js";
import { printWarnings } from "./warnings.js";
import { waitForObject } from "./watch.js";

export interface SetStateOptions {
  yes?: boolean;
  mfaCode?: string;
  dryRun?: DryRunMode;
}

const APPLIED_WITHIN_MS = 30_000;
const DONE: Record<AccessKeyState, string> = { Active: "activated", Inactive: "deactivated" };

// The patch carries the uid of the key the person decided on, which the API server checks: a key
// made since under the same name is not changed. (Not its resourceVersion: the operator's status
// writes change that all the time.)
function statePatch(key: AccessKey, state: AccessKeyState, code: string | undefined): object {
  return { metadata: { uid: key.metadata.uid, annotations: mfaCodeAnnotations(code) }, spec: { state } };
}

// Deactivating stops every client of the key at once: the consoles ask first.
async function confirmDeactivation(kind: Kind, key: AccessKey, patch: object): Promise<void> {
  const { warnings } = await kind.mergePatch(key.metadata.name ?? "", patch, "server");
  requireTerminal(`deactivating ${keyLabel(key)}`);
  printWarnings(warnings);
  process.stderr.write(`${keyLabel(key)} of user ${key.spec.user}, last used ${lastUseText(key, new Date())}.\n`);
  await confirmYesNo(`deactivating ${keyLabel(key)}`, "Deactivate it? Requests signed with it are refused at once");
}

/** Whether the operator applies the key's new state: its status says so for the current generation. */
function applied(state: AccessKeyState) {
  return (object: { metadata?: { generation?: number }; status?: Record<string, unknown> }) => {
    const key = object as AccessKey;
    const ready = findCondition(key.status?.conditions ?? [], "Ready");
    const current = (ready?.observedGeneration ?? 0) >= (key.metadata.generation ?? 0);
    return current && key.status?.state === state ? { done: true } : undefined;
  };
}

/** activate and deactivate: one change of spec.state, confirmed where the consoles confirm it. */
export async function setKeyState(session: Session, keyArgument: string, state: AccessKeyState, options: SetStateOptions): Promise<void> {
  const key = await findAccessKey(session, keyArgument);
  if (key.spec.state === state) {
    process.stdout.write(`${keyLabel(key)} is already ${state}; nothing changed\n`);
    return;
  }
  const code = await mfaCodeFor(session, options.mfaCode);
  const patch = statePatch(key, state, code);
  if (options.dryRun === "client") return void process.stdout.write(stringify(patch));
  const kind = new Kind(session, ACCESS_KEY_PLURAL);
  if (state === "Inactive" && options.yes !== true && options.dryRun === undefined) await confirmDeactivation(kind, key, patch);
  const written = await kind.mergePatch(key.metadata.name ?? "", patch, options.dryRun);
  printWarnings(written.warnings);
  if (options.dryRun === "server") return void process.stdout.write(`${keyLabel(key)} ${DONE[state]} (server dry run)\n`);
  await waitForObject(session, { plural: ACCESS_KEY_PLURAL, name: key.metadata.name ?? "" }, applied(state), APPLIED_WITHIN_MS);
  process.stdout.write(`${keyLabel(key)} ${DONE[state]}\n`);
}
