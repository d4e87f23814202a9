import * as k8s from "@kubernetes/client-node";
import { keygateUserOf } from "../runtime/user-mapping.js";
import { PluginError } from "./exit.js";
import type { Session } from "./session.js";

/** The caller's Kubernetes username, as the API server authenticated it. */
export async function callerUsername(session: Session): Promise<string> {
  const review = await session.kc.makeApiClient(k8s.AuthenticationV1Api).createSelfSubjectReview({
    body: { apiVersion: "authentication.k8s.io/v1", kind: "SelfSubjectReview" },
  });
  const username = review.status?.userInfo?.username;
  if (username === undefined || username === "") throw new PluginError("the API server did not say who you are (SelfSubjectReview has no username)");
  return username;
}

/** The keygate user the caller is in the session's namespace, mapped as the operator maps it (docs/accounts.md). */
export async function callerUser(session: Session): Promise<string> {
  const username = await callerUsername(session);
  const user = keygateUserOf(username, session.namespace, session.mapping);
  if (user === undefined) {
    throw new PluginError(
      `${username} is no keygate user in namespace ${session.namespace} (see docs/accounts.md; --strip-username-prefixes removes an identity provider's prefix): name the USER`,
    );
  }
  return user;
}

/** USER as given, else the caller's own user. */
export async function userOrSelf(session: Session, user: string | undefined): Promise<string> {
  return user ?? (await callerUser(session));
}
