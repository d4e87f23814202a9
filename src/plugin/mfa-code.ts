import type { Command } from "commander";
import { ACCOUNT_POLICY_NAME, ACCOUNT_POLICY_PLURAL } from "../api/accountpolicy.js";
import { MFA_CODE_ANNOTATION } from "../labels.js";
import { isApiStatus } from "../runtime/errors.js";
import { UsageError } from "./exit.js";
import { ask, canAsk } from "./prompt.js";
import { Kind } from "./resources.js";
import type { Session } from "./session.js";

const CODE = /^\d{6}$/;

/** `--mfa-code CODE`, for a change operation protection guards (docs/accounts.md). */
export function withMfaCode(command: Command): Command {
  return command.option("--mfa-code <code>", "a fresh 6-digit code of your MFA device, when the account's operation protection is on (asked for in a terminal)");
}

export function checkMfaCode(code: string): string {
  if (!CODE.test(code)) throw new UsageError(`--mfa-code must be 6 digits, not "${code}"`);
  return code;
}

// A caller who may not read the policy cannot tell; the webhook still refuses a change that needs a code.
async function operationProtected(session: Session): Promise<boolean> {
  try {
    const policy = await new Kind(session, ACCOUNT_POLICY_PLURAL).get(ACCOUNT_POLICY_NAME);
    return policy?.spec?.operationProtection === true;
  } catch (error) {
    if (isApiStatus(error, 403)) return false;
    throw error;
  }
}

/**
 * The code to send: the flag's, else, under operation protection and at a terminal, one the
 * person types (empty for none: an automation granted `bypass` needs none). Without either the
 * change goes without, and the webhook's refusal says what is missing. A command that makes a
 * second protected change asks again, naming the code it wants: a code is used up once checked.
 */
export async function mfaCodeFor(session: Session, flag: string | undefined, wanted = "MFA code"): Promise<string | undefined> {
  if (flag !== undefined) return checkMfaCode(flag);
  if (!canAsk() || !(await operationProtected(session))) return undefined;
  const typed = await ask(`Operation protection is on in ${session.namespace}: ${wanted} (empty for none): `);
  return typed === "" ? undefined : checkMfaCode(typed);
}

/** What a device's ceremony answer needs under operation protection: a code the create did not use. */
export const NEXT_CODE_WANTED = "a new code of an MFA device you already have, not the one being added";

/** The annotations that carry the code with the change; none without a code. */
export function mfaCodeAnnotations(code: string | undefined): Record<string, string> {
  return code === undefined ? {} : { [MFA_CODE_ANNOTATION]: code };
}
