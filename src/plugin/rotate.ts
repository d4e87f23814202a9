import type { Command } from "commander";
import { ACCESS_KEY_KIND, ACCESS_KEY_PLURAL, type AccessKey } from "../api/accesskey.js";
import { API_VERSION } from "../api/group.js";
import { parseDuration } from "../duration.js";
import { ROTATING_FROM_ANNOTATION } from "../labels.js";
import { asAccessKey, issuance, keyNamePrefix } from "./access-keys.js";
import { type PluginCommand, withExamples, withYes } from "./command.js";
import { createdKeyText, readIssuedPair } from "./create-key.js";
import { PluginError, UsageError } from "./exit.js";
import { mfaCodeAnnotations, mfaCodeFor, withMfaCode } from "./mfa-code.js";
import { confirmTyped } from "./prompt.js";
import { Kind } from "./resources.js";
import { nextRotationStep, type RotationStep } from "./rotation.js";
import { type Session, sessionOf } from "./session.js";
import { printWarnings } from "./warnings.js";
import { waitForObject } from "./watch.js";

interface RotateOptions {
  quietFor: string;
  force?: boolean;
  yes?: boolean;
  mfaCode?: string;
  timeout: string;
}

// Node fires a longer timer at once; a longer wait is then taken in several.
const LONGEST_TIMER_MS = 2 ** 31 - 1;

/** One run of the rotation: the flag's MFA code is used for the first protected change only (a code counts once). */
class Rotation {
  private flagCode: string | undefined;
  private readonly keys: Kind;

  constructor(
    private readonly session: Session,
    private readonly user: string,
    private readonly options: RotateOptions,
  ) {
    this.flagCode = options.mfaCode;
    this.keys = new Kind(session, ACCESS_KEY_PLURAL);
  }

  private async code(): Promise<Record<string, string>> {
    const flag = this.flagCode;
    this.flagCode = undefined;
    return mfaCodeAnnotations(await mfaCodeFor(this.session, flag));
  }

  // Keys being deleted are gone for the rotation: their finalizer only moves them to the recycle bin.
  async userKeys(): Promise<AccessKey[]> {
    const keys = (await this.keys.list(`spec.user=${this.user}`)).map(asAccessKey);
    return keys.filter((key) => key.metadata.deletionTimestamp === undefined);
  }

  async create(old: AccessKey): Promise<void> {
    const oldName = old.metadata.name ?? "";
    const annotations = { [ROTATING_FROM_ANNOTATION]: oldName, ...(await this.code()) };
    const created = await this.keys.create({
      apiVersion: API_VERSION,
      kind: ACCESS_KEY_KIND,
      metadata: { generateName: keyNamePrefix(this.user), namespace: this.session.namespace, annotations },
      spec: { user: this.user, description: `rotation of ${old.status?.accessKeyId ?? oldName}` },
    });
    printWarnings(created.warnings);
    const name = created.object.metadata?.name ?? "";
    process.stderr.write(`Step 1/4: creating the new key, accesskey/${name}...\n`);
    const issued = await waitForObject(this.session, { plural: ACCESS_KEY_PLURAL, name }, issuance, parseDuration(this.options.timeout, "--timeout"));
    const { secretAccessKey } = await readIssuedPair(this.session, issued.secretName);
    const key = { user: this.user, accessKeyId: issued.accessKeyId, secretAccessKey, createdAt: issued.createdAt };
    process.stdout.write(createdKeyText(key, { namespace: this.session.namespace, name }));
    process.stdout.write(`\nSwitch your clients to ${issued.accessKeyId} now; ${old.status?.accessKeyId ?? oldName} is retired once it is no longer used.\n`);
  }

  // Woken at the instant the key would have been quiet long enough; a use since then moves that instant on.
  async waitQuiet(old: AccessKey, until: number): Promise<void> {
    process.stderr.write(
      `Step 2/4: ${old.status?.accessKeyId} was last used at ${old.status?.lastUsed?.time ?? "its creation"}; waiting until ${new Date(until).toISOString()} ` +
        `for it to stay unused for ${this.options.quietFor} (--force skips; interrupt and rerun to continue later)...\n`,
    );
    await new Promise((resolve) => setTimeout(resolve, Math.min(until - Date.now(), LONGEST_TIMER_MS)));
  }

  async deactivate(old: AccessKey): Promise<void> {
    const name = old.metadata.name ?? "";
    process.stderr.write(`Step 3/4: deactivating ${old.status?.accessKeyId} (accesskey/${name})...\n`);
    printWarnings((await this.keys.mergePatch(name, { metadata: { annotations: await this.code() }, spec: { state: "Inactive" } })).warnings);
  }

  async remove(old: AccessKey): Promise<void> {
    const name = old.metadata.name ?? "";
    const id = old.status?.accessKeyId ?? name;
    process.stderr.write(`Step 4/4: deleting ${id} (accesskey/${name}); it stays restorable from the recycle bin.\n`);
    // The webhook's recent-use warning, shown before the person confirms: a server dry run stores nothing.
    printWarnings(await this.keys.delete(name, { dryRun: "server" }));
    if (this.options.yes !== true) await confirmTyped(`deleting ${id}`, id);
    printWarnings(await this.keys.delete(name));
  }

  async finish(fresh: AccessKey): Promise<void> {
    const name = fresh.metadata.name ?? "";
    printWarnings((await this.keys.mergePatch(name, { metadata: { annotations: { [ROTATING_FROM_ANNOTATION]: null } } })).warnings);
    process.stdout.write(`Rotation done: user ${this.user}'s key is now ${fresh.status?.accessKeyId ?? name} (accesskey/${name}).\n`);
  }
}

async function act(rotation: Rotation, next: RotationStep): Promise<boolean> {
  switch (next.step) {
    case "refuse":
      throw new PluginError(next.message);
    case "create":
      await rotation.create(next.old);
      return false;
    case "wait-quiet":
      await rotation.waitQuiet(next.old, next.until);
      return false;
    case "deactivate":
      await rotation.deactivate(next.old);
      return false;
    case "delete":
      await rotation.remove(next.old);
      return false;
    case "finish":
      await rotation.finish(next.fresh);
      return true;
  }
}

async function rotate(user: string, options: RotateOptions, command: Command): Promise<void> {
  const quietForMs = parseDuration(options.quietFor, "--quiet-for");
  parseDuration(options.timeout, "--timeout");
  const rotation = new Rotation(sessionOf(command), user, options);
  let done = false;
  while (!done) {
    const keys = await rotation.userKeys();
    done = await act(rotation, nextRotationStep({ user, keys, now: Date.now(), quietForMs, force: options.force === true }));
  }
}

function durationOption(text: string): string {
  try {
    parseDuration(text, "--quiet-for");
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  return text;
}

const RESUMABLE_HELP = `
Steps: 1. create the second key and show its secret once; 2. wait until the old key has not been
used for --quiet-for (status.lastUsed); 3. deactivate the old key; 4. after you type its id,
delete it (it stays restorable from the recycle bin).

Resumable: the new key carries the annotation ${ROTATING_FROM_ANNOTATION}: <old key's name>. If the
rotation is interrupted, run the same command again: it continues where it stopped, without a
third key. It refuses when the user already has two keys and none is a rotation's, naming the
one to remove.
`;

export const rotateCommand: PluginCommand = {
  register(program) {
    const command = program
      .command("rotate")
      .description("rotate USER's access key: a new key, the old one retired once quiet, deactivated and deleted; resumable")
      .argument("<user>", "the keygate user whose key is rotated")
      .option("--quiet-for <duration>", "how long the old key must have been unused before it is deactivated", durationOption, "10m")
      .option("--force", "deactivate the old key without waiting for it to go quiet")
      .option("--timeout <duration>", "how long to wait for the new key to be issued", "60s")
      .addHelpText("after", RESUMABLE_HELP);
    withExamples(withMfaCode(withYes(command)), [
      "kubectl keygate rotate alice",
      "# the old key is known unused: no waiting, no questions",
      "kubectl keygate rotate alice --force --yes",
    ]).action(rotate);
  },
};
