import type { Command } from "commander";
import { ACCESS_KEY_PLURAL } from "../api/accesskey.js";
import { RECYCLED_ACCESS_KEY_PLURAL, recycledAccessKeyName } from "../api/recycledaccesskey.js";
import { TEMPORARY_CREDENTIAL_PLURAL } from "../api/temporarycredential.js";
import { accessKeyKind } from "../credentials/format.js";
import { isApiStatus } from "../runtime/errors.js";
import { type OutputFormat, type PluginCommand, withExamples, withOutput } from "./command.js";
import { PluginError, UsageError } from "./exit.js";
import { renderObjects, renderTable } from "./output.js";
import { Kind, type KeygateObject } from "./resources.js";
import { type Session, sessionOf } from "./session.js";
import { ownerOf, type KeyOwner } from "./owners.js";

// Owner lookup as STS GetAccessKeyInfo, from the cluster rather than the verifier: the verifier's
// endpoint wants a signed request, which a person at a terminal does not have. So the answer
// covers what the caller may list: every namespace when RBAC lets them list cluster-wide, else
// the current namespace only, and it says which.

interface Searched {
  readonly objects: KeygateObject[];
  readonly everywhere: boolean;
}

async function listWherever(session: Session, plural: string, fieldSelector?: string): Promise<Searched> {
  const kind = new Kind(session, plural);
  try {
    return { objects: await kind.listAllNamespaces(fieldSelector), everywhere: true };
  } catch (error) {
    if (!isApiStatus(error, 403)) throw error;
    return { objects: await kind.list(fieldSelector), everywhere: false };
  }
}

async function candidates(session: Session, id: string): Promise<Searched[]> {
  if (accessKeyKind(id) === "temporary") return [await listWherever(session, TEMPORARY_CREDENTIAL_PLURAL)];
  return Promise.all([
    listWherever(session, ACCESS_KEY_PLURAL),
    listWherever(session, RECYCLED_ACCESS_KEY_PLURAL, `metadata.name=${recycledAccessKeyName(id)}`),
  ]);
}

function ownerText(owner: KeyOwner): string {
  return renderTable(
    ["field", "value"],
    [
      ["Access key ID", owner.accessKeyId],
      ["Namespace", owner.namespace],
      ["User", owner.user],
      ["Object", owner.object],
      ["State", owner.state],
    ],
  )
    .split("\n")
    .slice(1)
    .join("\n");
}

async function whois(id: string, options: { output?: OutputFormat }, command: Command): Promise<void> {
  if (accessKeyKind(id) === undefined) throw new UsageError(`KEYID must be an access key id (KGAK or KGAS and 16 base32 characters), not "${id}"`);
  const session = sessionOf(command);
  const searched = await candidates(session, id);
  const owner = ownerOf(id, searched.flatMap((result) => result.objects));
  const where = searched.every((result) => result.everywhere) ? "any namespace you may list" : `namespace ${session.namespace} (you may not list keys cluster-wide)`;
  if (!owner) throw new PluginError(`no access key ${id} in ${where}`);
  if (options.output === "json" || options.output === "yaml") process.stdout.write(renderObjects(options.output, [owner], true));
  else process.stdout.write(ownerText(owner));
}

export const whoisCommand: PluginCommand = {
  register(program) {
    const command = program
      .command("whois")
      .description("tell whose an access key id is: namespace, user and object (long-term, temporary, or in the recycle bin)")
      .argument("<keyid>", "an access key id, KGAK… or KGAS…")
      .addHelpText(
        "after",
        "\nThe answer comes from the objects you may list: AccessKeys, TemporaryCredentials and the recycle bin of every namespace\n" +
          "when RBAC lets you list them cluster-wide, else of the current namespace only. (The verifier's\n" +
          "GET /v1/access-keys/<id>/owner answers signed requests, which a terminal does not have.)\n",
      );
    withExamples(withOutput(command), ["kubectl keygate whois KGAKQ3VXN5PLR7TW2MZE", "kubectl keygate whois KGASM4XZ7QHPW2LR5NTE -o json"]).action(whois);
  },
};
