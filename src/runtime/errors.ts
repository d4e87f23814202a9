import { ApiException } from "@kubernetes/client-node";
import { parseJson } from "../json.js";

/** The HTTP status of a failed API call: ApiException from typed clients, statusCode from watches. */
export function apiStatus(error: unknown): number | undefined {
  if (error instanceof ApiException) return error.code;
  const statusCode = (error as { statusCode?: unknown } | null)?.statusCode;
  return typeof statusCode === "number" ? statusCode : undefined;
}

export function isApiStatus(error: unknown, code: number): boolean {
  return apiStatus(error) === code;
}

function statusMessage(body: unknown): string | undefined {
  const parsed: unknown = typeof body === "string" ? parseJson(body) : body;
  const message = (parsed as { message?: unknown } | null | undefined)?.message;
  return typeof message === "string" ? message : undefined;
}

/**
 * A one-line reason for logs. An ApiException's own message carries the whole response with its
 * headers; the API server's Status message is what a reader needs.
 */
export function errorReason(error: unknown): string {
  if (error instanceof ApiException) return statusMessage(error.body) ?? `HTTP ${error.code}`;
  if (error instanceof Error) return error.message;
  return String(error);
}
