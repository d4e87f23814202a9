import { inject } from "vitest";

// The end-to-end tests run images on a local Docker engine: they need Linux, root and Debian.
// scripts/ensure-e2e-deps.mjs checks that before `npm run test:e2e` and vitest.e2e.config.ts
// hands its verdict to the tests as `e2eSkipReason`.

declare module "vitest" {
  export interface ProvidedContext {
    /** Why the end-to-end tests cannot run on this machine; null when they can. */
    e2eSkipReason: string | null;
  }
}

/** Why this file's tests skip, said once on stderr; undefined when they run. */
export function e2eSkipReason(file: string): string | undefined {
  const reason = inject("e2eSkipReason") ?? undefined;
  if (reason) process.stderr.write(`${file}: skipped: ${reason}\n`);
  return reason;
}

/** Progress of image builds and the like, on stderr with a scope. */
export function progressOf(scope: string): (message: string) => void {
  return (message) => process.stderr.write(`[${scope}] ${message}\n`);
}
