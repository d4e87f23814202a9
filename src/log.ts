import { pino, type Logger } from "pino";

// Secrets never reach a log line, even by accident: every field that could carry one is
// censored wherever it appears in a logged object.
export const REDACTED_PATHS = [
  "secret",
  "secretAccessKey",
  "sessionToken",
  "securityToken",
  "seed",
  "signature",
  "authorization",
  "*.secret",
  "*.secretAccessKey",
  "*.sessionToken",
  "*.securityToken",
  "*.seed",
  "*.signature",
  "*.authorization",
  "*.data",
  "*.stringData",
  "headers.authorization",
  "*.headers.authorization",
  'headers["x-amz-security-token"]',
  'headers["x-acs-security-token"]',
  'headers["x-security-token"]',
];

export function createLogger(options: { level?: string; destination?: NodeJS.WritableStream } = {}): Logger {
  return pino(
    {
      name: "keygate",
      level: options.level ?? process.env.KEYGATE_LOG_LEVEL ?? "info",
      redact: { paths: REDACTED_PATHS, censor: "[redacted]" },
      base: { pid: process.pid },
    },
    options.destination ?? process.stderr,
  );
}
