import type { MfaDevice } from "../api/mfadevice.js";
import { MAX_DURATION_SECONDS, MIN_DURATION_SECONDS, type TemporaryCredential } from "../api/temporarycredential.js";
import { parseDuration } from "../duration.js";
import { Reason } from "../kinds/temporarycredential/reasons.js";
import { findCondition } from "../runtime/conditions.js";
import { PluginError, UsageError } from "./exit.js";
import type { KeygateObject } from "./resources.js";
import type { Progress } from "./watch.js";

/** `--duration` in seconds, within what a TemporaryCredential accepts. */
export function sessionSeconds(text: string): number {
  let ms: number;
  try {
    ms = parseDuration(text, "--duration");
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const seconds = Math.floor(ms / 1000);
  if (seconds < MIN_DURATION_SECONDS || seconds > MAX_DURATION_SECONDS) {
    throw new UsageError(`--duration must be from 15m to 24h, not ${text}`);
  }
  return seconds;
}

/** A session that was issued: where its Secret is, when it ends, and whether MFA made it. */
export interface IssuedSession {
  readonly secretName: string;
  readonly expiration: string;
  readonly mfaAuthenticated: boolean;
}

function issuedOf(credential: TemporaryCredential): IssuedSession | undefined {
  const { secretRef, expiration, mfaAuthenticated } = credential.status ?? {};
  if (secretRef === undefined || expiration === undefined) return undefined;
  return { secretName: secretRef.name, expiration, mfaAuthenticated: mfaAuthenticated === true };
}

/** Where a new session stands: issued, refused or expired (the controller's message), or not yet. */
export function sessionIssuance(object: KeygateObject): Progress<IssuedSession> {
  const credential = object as TemporaryCredential;
  const ready = findCondition(credential.status?.conditions ?? [], "Ready");
  if (ready === undefined || ready.reason === Reason.Pending) return undefined;
  if (ready.status === "True") {
    const issued = issuedOf(credential);
    return issued && { done: issued };
  }
  return { failed: `temporarycredential/${credential.metadata.name ?? ""} was not issued (${ready.reason}): ${ready.message}` };
}

/** The device a code goes with: the one named, else the user's bound one; unchecked when the devices could not be read. */
export function mfaDeviceFor(user: string, bound: readonly MfaDevice[] | undefined, named: string | undefined): string | undefined {
  if (bound === undefined) return named;
  // Codes come from the virtual device only; a security key answers a challenge, in a browser.
  const names = bound.filter((device) => device.spec.type === "Virtual").map((device) => device.spec.deviceName);
  if (named !== undefined && !names.includes(named) && bound.some((device) => device.spec.deviceName === named)) {
    throw new PluginError(
      `MFA device ${named} of user ${user} is a security key, which takes no code; kubectl keygate session takes codes only: ` +
        "request a TemporaryCredential with spec.mfa.assertion instead (docs/temporarycredentials.md); nothing changed",
    );
  }
  if (named !== undefined) {
    if (!names.includes(named)) {
      throw new PluginError(`user ${user} has no bound MFA device ${named} (bound: ${names.length === 0 ? "none" : names.join(", ")}); nothing changed`);
    }
    return named;
  }
  return names[0];
}
