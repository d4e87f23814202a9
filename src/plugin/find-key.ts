import { ACCESS_KEY_PLURAL, type AccessKey } from "../api/accesskey.js";
import { LONG_TERM_ACCESS_KEY_ID } from "../credentials/format.js";
import { asAccessKey } from "./access-keys.js";
import { PluginError } from "./exit.js";
import { Kind } from "./resources.js";
import type { Session } from "./session.js";

/** KEY as a person gives it: an AccessKey's name, or the access key id they see in a table or a log. */
export async function findAccessKey(session: Session, key: string): Promise<AccessKey> {
  const kind = new Kind(session, ACCESS_KEY_PLURAL);
  const found = LONG_TERM_ACCESS_KEY_ID.test(key)
    ? (await kind.list()).map(asAccessKey).find((candidate) => candidate.status?.accessKeyId === key)
    : await kind.get(key).then((object) => object && asAccessKey(object));
  if (!found) throw new PluginError(`no access key ${key} in namespace ${session.namespace}: give an AccessKey name or an access key id (kubectl keygate keys --all-users lists them)`);
  return found;
}

/** `accesskey/alice-x7k2p (KGAK…)`, as messages name a key. */
export function keyLabel(key: AccessKey): string {
  return `accesskey/${key.metadata.name ?? ""} (${key.status?.accessKeyId ?? "not issued"})`;
}
