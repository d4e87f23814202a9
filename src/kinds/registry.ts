import { accessKey } from "./accesskey/index.js";
import { accountPolicy } from "./accountpolicy/index.js";
import type { KindModule } from "./kind.js";
import { mfaDevice } from "./mfadevice/index.js";
import { recycledAccessKey } from "./recycledaccesskey/index.js";
import { temporaryCredential } from "./temporarycredential/index.js";

// Every kind keygate serves. The operator wires a controller for each, the webhook registers
// their admission rules, and the CRD generator writes one CRD per entry.
export const kinds: readonly KindModule[] = [accessKey, mfaDevice, temporaryCredential, accountPolicy, recycledAccessKey];
