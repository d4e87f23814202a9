import { accessKeyDefinition } from "./accesskey.js";
import type { KindDefinition } from "./kind.js";
import { mfaDeviceDefinition } from "./mfadevice.js";
import { temporaryCredentialDefinition } from "./temporarycredential.js";

// Every kind keygate serves; the CRD generator writes one file per entry.
export const kinds: readonly KindDefinition[] = [accessKeyDefinition, mfaDeviceDefinition, temporaryCredentialDefinition];
