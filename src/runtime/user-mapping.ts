import { iamUserName } from "../api/user.js";

/** How Kubernetes usernames map to keygate users: which prefixes an identity provider adds. */
export interface UserMapping {
  /** Removed from a username before it is read as a keygate user, the first that matches (e.g. "oidc:"). */
  readonly stripPrefixes: readonly string[];
}

export const DEFAULT_USER_MAPPING: UserMapping = { stripPrefixes: [] };

const SERVICE_ACCOUNT = /^system:serviceaccount:([^:]+):([^:]+)$/;

/**
 * The keygate user a Kubernetes identity is in a namespace, or undefined when it is none. A
 * ServiceAccount is a user only in its own namespace, as a cloud's user belongs to one account;
 * other system: identities (nodes, controllers) are never users; any other username is one
 * once its provider's prefix is removed, when what is left is a valid user name.
 */
export function keygateUserOf(username: string, namespace: string, mapping: UserMapping): string | undefined {
  const serviceAccount = SERVICE_ACCOUNT.exec(username);
  if (serviceAccount) return serviceAccount[1] === namespace ? valid(serviceAccount[2] ?? "") : undefined;
  if (username.startsWith("system:")) return undefined;
  const prefix = mapping.stripPrefixes.find((candidate) => candidate !== "" && username.startsWith(candidate));
  return valid(prefix === undefined ? username : username.slice(prefix.length));
}

function valid(name: string): string | undefined {
  return iamUserName.safeParse(name).success ? name : undefined;
}
