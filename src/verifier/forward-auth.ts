import type { HeaderList, HttpRequestDescription } from "../signing/request.js";
import { splitRequestTarget } from "../signing/request.js";
import { type ApiError, invalidField, isApiError } from "./errors.js";

export type Gateway = "nginx" | "traefik" | "envoy";

// One path per gateway, fixed by configuration: the verifier never guesses the gateway from
// headers, because a client could then send X-Original-URI through a Traefik that does not
// overwrite it and have a different request verified than the one the gateway forwards.
export const FORWARD_AUTH_PATHS = {
  nginx: "/v1/forward-auth/nginx",
  traefik: "/v1/forward-auth/traefik",
  envoy: "/v1/forward-auth/envoy",
} as const;

export function gatewayOf(path: string): Gateway | undefined {
  if (path === FORWARD_AUTH_PATHS.nginx) return "nginx";
  if (path === FORWARD_AUTH_PATHS.traefik) return "traefik";
  return path.startsWith(`${FORWARD_AUTH_PATHS.envoy}/`) ? "envoy" : undefined;
}

/** The authorization request a gateway sends, as received. */
export interface AuthRequest {
  readonly method: string;
  /** Raw path and query of the authorization request itself. */
  readonly target: string;
  readonly headers: HeaderList;
  /** The original body when the gateway forwards it; undefined when it does not (or sent none). */
  readonly body: Buffer | undefined;
}

// Gateways that do not forward the body can still pass the original length for clients that
// sign content-length (NGINX: proxy_set_header X-Original-Content-Length $content_length).
export const ORIGINAL_CONTENT_LENGTH = "x-original-content-length";
// Set by Envoy when the body it forwards was cut at max_request_bytes.
const ENVOY_PARTIAL_BODY = "x-envoy-auth-partial-body";

// These describe the hop between gateway and verifier, not the client's request.
const HOP_BY_HOP = new Set(["connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "trailer", "upgrade"]);

type Parsed<T> = T | ApiError;

function valuesOf(headers: HeaderList, name: string): string[] {
  return headers.filter(([key]) => key.toLowerCase() === name).map(([, value]) => value);
}

function requiredOnce(headers: HeaderList, name: string, display: string): Parsed<string> {
  const values = valuesOf(headers, name);
  if (values.length === 1 && values[0] !== "") return values[0] as string;
  return invalidField(display, values.length === 0 ? "header is missing" : "header must appear exactly once");
}

interface Original {
  readonly method: string;
  readonly target: string;
  readonly host: string;
}

const ABSOLUTE_URL = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/([^/?#]+)([^#]*)$/;

interface NginxTarget {
  readonly target: string;
  /** The Host the client sent, when the absolute URL carries it. */
  readonly host?: string;
}

// ingress-nginx sends the absolute URL (X-Original-URL); plain NGINX configurations the path
// (X-Original-URI) beside the client's Host.
function nginxTarget(headers: HeaderList): Parsed<NginxTarget> {
  const [url] = valuesOf(headers, "x-original-url");
  if (url === undefined) {
    const target = requiredOnce(headers, "x-original-uri", "X-Original-URI");
    return isApiError(target) ? target : { target };
  }
  const absolute = ABSOLUTE_URL.exec(url);
  if (!absolute) return invalidField("X-Original-URL", "must be an absolute URL");
  return { target: absolute[2] || "/", host: absolute[1] };
}

function nginxOriginal(auth: AuthRequest): Parsed<Original> {
  const method = requiredOnce(auth.headers, "x-original-method", "X-Original-Method");
  if (isApiError(method)) return method;
  const target = nginxTarget(auth.headers);
  if (isApiError(target)) return target;
  const host = target.host ?? requiredOnce(auth.headers, "host", "Host");
  return isApiError(host) ? host : { method, target: target.target, host };
}

function traefikOriginal(auth: AuthRequest): Parsed<Original> {
  const method = requiredOnce(auth.headers, "x-forwarded-method", "X-Forwarded-Method");
  if (isApiError(method)) return method;
  const target = requiredOnce(auth.headers, "x-forwarded-uri", "X-Forwarded-Uri");
  if (isApiError(target)) return target;
  const host = requiredOnce(auth.headers, "x-forwarded-host", "X-Forwarded-Host");
  return isApiError(host) ? host : { method, target, host };
}

// Envoy keeps the method and the headers, and puts the original path after its path_prefix.
function envoyOriginal(auth: AuthRequest): Parsed<Original> {
  const host = requiredOnce(auth.headers, "host", "Host");
  if (isApiError(host)) return host;
  return { method: auth.method, target: auth.target.slice(FORWARD_AUTH_PATHS.envoy.length), host };
}

const ORIGINALS: Record<Gateway, (auth: AuthRequest) => Parsed<Original>> = {
  nginx: nginxOriginal,
  traefik: traefikOriginal,
  envoy: envoyOriginal,
};

function usableBody(auth: AuthRequest): Buffer | undefined {
  const partial = valuesOf(auth.headers, ENVOY_PARTIAL_BODY).some((value) => value.trim().toLowerCase() === "true");
  return partial ? undefined : auth.body;
}

/** The client's headers: the gateway's hop headers out, the original Host and length in. */
function originalHeaders(auth: AuthRequest, host: string, body: Buffer | undefined): HeaderList {
  const headers: HeaderList = [["host", host]];
  for (const [name, value] of auth.headers) {
    const key = name.toLowerCase();
    const framing = key === "content-length" && body === undefined;
    if (!HOP_BY_HOP.has(key) && key !== "host" && key !== ORIGINAL_CONTENT_LENGTH && !framing) headers.push([name, value]);
  }
  const [length] = valuesOf(auth.headers, ORIGINAL_CONTENT_LENGTH);
  if (body === undefined && length !== undefined) headers.push(["content-length", length]);
  return headers;
}

/** The client's request, rebuilt from what one gateway sends to an authorization service. */
export function describeForwarded(gateway: Gateway, auth: AuthRequest): HttpRequestDescription | ApiError {
  const original = ORIGINALS[gateway](auth);
  if (isApiError(original)) return original;
  if (!original.target.startsWith("/")) return invalidField("original URI", "must be a path starting with /");
  const body = usableBody(auth);
  return {
    method: original.method,
    ...splitRequestTarget(original.target),
    headers: originalHeaders(auth, original.host, body),
    body,
  };
}
