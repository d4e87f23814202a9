/**
 * Who keygate is to an authenticator. A credential is bound to the relying party id it was
 * registered for, and the browser lets only pages whose host is that id (or under it) use it;
 * the origins are the pages keygate accepts ceremonies from.
 */
export interface RelyingParty {
  readonly id: string;
  readonly name: string;
  /** Exact origins, or `scheme://host:*` for any port of that host. */
  readonly origins: readonly string[];
}

// `http://localhost` is a secure context, so a page the plugin serves on loopback can run the
// ceremony; its port is chosen at random.
export const DEFAULT_RELYING_PARTY: RelyingParty = { id: "localhost", name: "keygate", origins: ["http://localhost:*"] };

const ORIGIN_PATTERN = /^(https?):\/\/([a-z0-9.-]+)(?::(\d{1,5}|\*))?$/;

/** A reason the origin pattern is unusable, or undefined when it is fine. */
export function originPatternProblem(pattern: string): string | undefined {
  const match = ORIGIN_PATTERN.exec(pattern);
  if (!match) return `"${pattern}" is not an origin (scheme://host[:port], or :* for any port)`;
  if (match[1] === "http" && match[2] !== "localhost") return `"${pattern}": WebAuthn needs https, except on localhost`;
  return undefined;
}

/** A reason the relying party id is unusable for these origins, or undefined. */
export function relyingPartyProblem(rp: RelyingParty): string | undefined {
  if (!/^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/.test(rp.id)) return `relying party id "${rp.id}" must be a host name`;
  if (rp.origins.length === 0) return "at least one WebAuthn origin is needed";
  for (const pattern of rp.origins) {
    const problem = originPatternProblem(pattern);
    if (problem) return problem;
    const host = ORIGIN_PATTERN.exec(pattern)?.[2] ?? "";
    if (host !== rp.id && !host.endsWith(`.${rp.id}`)) return `origin ${pattern} is not on relying party id ${rp.id} or under it`;
  }
  return undefined;
}

/** Whether the origin a browser reported is one keygate accepts ceremonies from. */
export function originAllowed(origin: string, rp: RelyingParty): boolean {
  return rp.origins.some((pattern) => {
    if (!pattern.endsWith(":*")) return origin === pattern;
    const match = ORIGIN_PATTERN.exec(origin);
    return match?.[3] !== undefined && match[3] !== "*" && `${origin.slice(0, origin.lastIndexOf(":"))}:*` === pattern;
  });
}
