import type { IndexedKey } from "../../src/verifier/key-table.js";
import type { ServerDeps } from "../../src/verifier/server.js";
import { benchKeys } from "../inprocess/fixtures.js";
import { HTTP_KEYS } from "./requests.js";

/** The benchmark's keys as the key index would hold them: active, no network policy. */
export function indexedKeys(): Map<string, IndexedKey> {
  return new Map(
    benchKeys(HTTP_KEYS).map(({ accessKeyId, secret }) => [
      accessKeyId,
      {
        secret,
        accessKeyId,
        namespace: "bench",
        user: "load",
        active: true,
        allowedSourceCIDRs: undefined,
        accessKey: { namespace: "bench", name: accessKeyId.toLowerCase(), uid: `uid-${accessKeyId}` },
      },
    ]),
  );
}

/** The load signs no MFA calls: no user has a security key. */
export const NO_SECURITY_KEYS: ServerDeps["securityKeys"] = {
  challenge: () => Promise.resolve({ found: false, code: "MfaDeviceNotFound", message: "no registered security key" }),
  verify: () => Promise.resolve({ valid: false, code: "MfaDeviceNotFound", message: "no registered security key" }),
};
