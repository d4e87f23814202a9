// Errors of the verifier's own API, as opposed to signature denials (src/signing/errors.ts):
// the request to the verifier itself was wrong, or the verifier cannot answer yet. Values with
// stable codes, like denials, so no input turns into a 500.
export const API_ERROR_STATUS = {
  InvalidRequest: 400,
  AccessDenied: 403,
  NotFound: 404,
  MethodNotAllowed: 405,
  NoSuchEntity: 404,
  RequestTimeout: 408,
  EntityTooLarge: 413,
  RequestHeaderFieldsTooLarge: 431,
  // Real overload only (the connection cap); never an answer to what a request contains.
  ServiceUnavailable: 503,
  // A check threw instead of answering (a bug). Still the request's refusal, never a 5xx: a
  // gateway or monitor reads 5xx as the verifier failing, and input must not be able to cause one.
  UnverifiableRequest: 400,
} as const;

export type ApiErrorCode = keyof typeof API_ERROR_STATUS;

export interface ApiError {
  readonly allowed: false;
  readonly code: ApiErrorCode;
  readonly message: string;
  readonly httpStatus: number;
}

/** Messages name fields and limits, never the values a caller sent. */
export function apiError(code: ApiErrorCode, message: string): ApiError {
  return { allowed: false, code, message, httpStatus: API_ERROR_STATUS[code] };
}

/** A malformed request description, naming the field at fault. */
export function invalidField(field: string, problem: string): ApiError {
  return apiError("InvalidRequest", `${field}: ${problem}`);
}

export function isApiError(value: unknown): value is ApiError {
  return typeof value === "object" && value !== null && (value as { allowed?: unknown }).allowed === false;
}
