import type { HeaderList, HttpRequestDescription } from "../signing/request.js";
import { splitRequestTarget } from "../signing/request.js";
import { type ApiError, invalidField, isApiError } from "./errors.js";

export type Gateway = "nginx" | "ingress-nginx" | "traefik" | "caddy" | "envoy";

// One path per gateway, fixed by configuration: the verifier never guesses the gateway from
// headers, because a client could then send X-Original-URI through a Traefik that does not
// overwrite it and have a different request verified than the one the gateway forwards.
export const FORWARD_AUTH_PATHS = {
  nginx: "/v1/forward-auth/nginx",
  "ingress-nginx": "/v1/forward-auth/ingress-nginx",
  traefik: "/v1/forward-auth/traefik",
  caddy: "/v1/forward-auth/caddy",
  envoy: "/v1/forward-auth/envoy",
} as const;

export function gatewayOf(path: string): Gateway | undefined {
  if (path === FORWARD_AUTH_PATHS.nginx) return "nginx";
  if (path === FORWARD_AUTH_PATHS["ingress-nginx"]) return "ingress-nginx";
  if (path === FORWARD_AUTH_PATHS.traefik) return "traefik";
  if (path === FORWARD_AUTH_PATHS.caddy) return "caddy";
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

/** The client's request, and the X-Forwarded-For the gateway wrote (at most one value). */
export interface Forwarded {
  readonly request: HttpRequestDescription;
  readonly forwardedFor: readonly string[];
}

const HOST = "host";
const FORWARDED_FOR = "x-forwarded-for";
// Our NGINX configuration passes the original length, since auth_request never forwards the body.
export const ORIGINAL_CONTENT_LENGTH = "x-original-content-length";
// Set by Envoy's ext_authz, whenever it forwards the body, to say whether it cut it short.
const ENVOY_PARTIAL_BODY = "x-envoy-auth-partial-body";

// These describe the hop between gateway and verifier, not the client's request.
const HOP_BY_HOP = new Set(["connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "trailer", "upgrade"]);

type Parsed<T> = T | ApiError;

/**
 * The headers one gateway sets on its authorization call, replacing any copy the client sent
 * (which is what makes them evidence). Each is read exactly once: a repeat means the gateway did
 * not replace the client's copy, so the call is refused. Every header not named here is the
 * client's, and nothing of the call is read as the gateway's unless it is named here.
 */
interface GatewayProfile {
  /** The headers read, lowercased once when the profile is made; required first. */
  readonly rules: readonly Rule[];
  readonly names: ReadonlySet<string>;
  original(gateway: GatewayHeaders, auth: AuthRequest): Parsed<Original>;
  /** The client's body length when the body is not forwarded; only where the gateway sets it. */
  readonly originalLength: boolean;
  /** The gateway marks a body it cut short; only where the gateway sets the mark. */
  readonly partialBodyMark: boolean;
}

interface Original {
  readonly method: string;
  readonly target: string;
  readonly host: string;
}

/** A header a profile reads, with its lowercased name worked out once. */
interface Rule {
  readonly display: string;
  readonly lower: string;
  readonly required: boolean;
}

interface ProfileSpec extends Omit<GatewayProfile, "rules" | "names"> {
  /** Must be present once. Display spelling, matched case-insensitively. */
  readonly required: readonly string[];
  /** At most once, besides X-Forwarded-For, which every gateway writes. */
  readonly optional: readonly string[];
}

function profile({ required, optional, ...rest }: ProfileSpec): GatewayProfile {
  const rule = (display: string, isRequired: boolean): Rule => ({ display, lower: display.toLowerCase(), required: isRequired });
  const rules = [...required.map((name) => rule(name, true)), ...[...optional, "X-Forwarded-For"].map((name) => rule(name, false))];
  return { ...rest, rules, names: new Set(rules.map((item) => item.lower)) };
}

const REPEATED = "header must appear exactly once (the gateway must replace any copy the client sent)";

/** The call's headers, their names lowercased once (same order) for everything that reads them, and its body. */
interface CallHeaders {
  readonly headers: HeaderList;
  readonly lowerNames: readonly string[];
  readonly body: Buffer | undefined;
}

/** The gateway's headers of one call, each checked to appear at most once. */
class GatewayHeaders {
  private constructor(private readonly values: ReadonlyMap<string, string>) {}

  static read(profile: GatewayProfile, call: CallHeaders): Parsed<GatewayHeaders> {
    const values = new Map<string, string>();
    let repeated: string | undefined;
    for (let i = 0; i < call.headers.length; i++) {
      const key = call.lowerNames[i] as string;
      const value = (call.headers[i] as [string, string])[1];
      if (!profile.names.has(key)) continue;
      if (values.has(key)) repeated ??= key;
      else values.set(key, value);
    }
    for (const rule of profile.rules) {
      if (rule.lower === repeated) return invalidField(rule.display, REPEATED);
      if (rule.required && !values.get(rule.lower)) return invalidField(rule.display, "header is missing");
    }
    return new GatewayHeaders(values);
  }

  get(name: string): string | undefined {
    return this.values.get(name);
  }

  /** Present: checked by read() for every required header. */
  required(name: string): string {
    return this.values.get(name) ?? "";
  }

  owns(lowerName: string): boolean {
    return this.values.has(lowerName);
  }
}

const ABSOLUTE_URL = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/([^/?#]+)([^#]*)$/;

// Plain NGINX with the configuration of docs/gateways.md: proxy_set_header replaces the
// client's copies of X-Original-Method, X-Original-URI and X-Original-Content-Length.
const NGINX = profile({
  required: ["X-Original-Method", "X-Original-URI", "Host"],
  optional: ["X-Original-Content-Length"],
  original: (gateway) => ({ method: gateway.required("x-original-method"), target: gateway.required("x-original-uri"), host: gateway.required(HOST) }),
  originalLength: true,
  partialBodyMark: false,
});

// ingress-nginx always sets X-Original-Method and the absolute X-Original-URL, and Host to the
// verifier's; X-Original-URI only with the auth-method annotation, so it is never read here, nor
// any length (it sets none: a client's copy would pass through).
const INGRESS_NGINX = profile({
  required: ["X-Original-Method", "X-Original-URL"],
  optional: [],
  original: (gateway) => {
    const absolute = ABSOLUTE_URL.exec(gateway.required("x-original-url"));
    if (!absolute) return invalidField("X-Original-URL", "must be an absolute URL");
    return { method: gateway.required("x-original-method"), target: absolute[2] || "/", host: absolute[1] as string };
  },
  originalLength: false,
  partialBodyMark: false,
});

// Traefik's ForwardAuth (trustForwardHeader: false) sets each X-Forwarded-* from the request it
// received, replacing the client's; it sends no length and no partial-body mark.
const TRAEFIK = profile({
  required: ["X-Forwarded-Method", "X-Forwarded-Uri", "X-Forwarded-Host"],
  optional: [],
  original: (gateway) => ({ method: gateway.required("x-forwarded-method"), target: gateway.required("x-forwarded-uri"), host: gateway.required("x-forwarded-host") }),
  originalLength: false,
  partialBodyMark: false,
});

// Caddy's forward_auth sets X-Forwarded-Method and X-Forwarded-Uri (header_up replaces), and its
// reverse_proxy X-Forwarded-Host and X-Forwarded-For (replacing a client's, from an untrusted
// peer); it always calls with GET and no body, and sends no length and no partial-body mark:
// the same profile as Traefik's.

// Envoy keeps the method and Host, puts the original path after its path_prefix, and, when it
// forwards the body (with_request_body), always writes its own x-envoy-auth-partial-body.
const ENVOY = profile({
  required: ["Host"],
  optional: ["X-Envoy-Auth-Partial-Body"],
  original: (gateway, auth) => ({ method: auth.method, target: auth.target.slice(FORWARD_AUTH_PATHS.envoy.length), host: gateway.required(HOST) }),
  originalLength: false,
  partialBodyMark: true,
});

const PROFILES: Record<Gateway, GatewayProfile> = { nginx: NGINX, "ingress-nginx": INGRESS_NGINX, traefik: TRAEFIK, caddy: TRAEFIK, envoy: ENVOY };

function usableBody(profile: GatewayProfile, gateway: GatewayHeaders, body: Buffer | undefined): Parsed<Buffer | undefined> {
  if (!profile.partialBodyMark) return body;
  const mark = gateway.get(ENVOY_PARTIAL_BODY);
  if (mark === undefined || mark === "false") return body;
  return mark === "true" ? undefined : invalidField("X-Envoy-Auth-Partial-Body", "must be true or false");
}

const LENGTH = /^\d{1,15}$/;

function originalLength(profile: GatewayProfile, gateway: GatewayHeaders): Parsed<string | undefined> {
  const length = profile.originalLength ? gateway.get(ORIGINAL_CONTENT_LENGTH) : undefined;
  if (length === undefined || LENGTH.test(length)) return length;
  return invalidField("X-Original-Content-Length", "must be a whole number of bytes");
}

/** What replaces the call's own framing in the client's headers. */
interface Framing {
  readonly host: string;
  readonly length: string | undefined;
  readonly body: Buffer | undefined;
}

/** The client's headers: the gateway's own and the hop's out, the original Host and length in. */
function originalHeaders(call: CallHeaders, gateway: GatewayHeaders, framing: Framing): HeaderList {
  const headers: HeaderList = [[HOST, framing.host]];
  for (let i = 0; i < call.headers.length; i++) {
    const [name, value] = call.headers[i] as readonly [string, string];
    const key = call.lowerNames[i] as string;
    const callLength = key === "content-length" && framing.body === undefined;
    if (!HOP_BY_HOP.has(key) && key !== HOST && !gateway.owns(key) && !callLength) headers.push([name, value]);
  }
  if (framing.body === undefined && framing.length !== undefined) headers.push(["content-length", framing.length]);
  return headers;
}

function assemble(profile: GatewayProfile, call: CallHeaders, gateway: GatewayHeaders, original: Original): Parsed<Forwarded> {
  const body = usableBody(profile, gateway, call.body);
  if (isApiError(body)) return body;
  const length = originalLength(profile, gateway);
  if (isApiError(length)) return length;
  const forwardedFor = gateway.get(FORWARDED_FOR);
  const headers = originalHeaders(call, gateway, { host: original.host, length, body });
  return {
    request: { method: original.method, ...splitRequestTarget(original.target), headers, body },
    forwardedFor: forwardedFor === undefined ? [] : [forwardedFor],
  };
}

/** The client's request, rebuilt from what one gateway sends to an authorization service. */
export function describeForwarded(gatewayName: Gateway, auth: AuthRequest): Forwarded | ApiError {
  const profile = PROFILES[gatewayName];
  const call: CallHeaders = { headers: auth.headers, lowerNames: auth.headers.map(([name]) => name.toLowerCase()), body: auth.body };
  const gateway = GatewayHeaders.read(profile, call);
  if (isApiError(gateway)) return gateway;
  const original = profile.original(gateway, auth);
  if (isApiError(original)) return original;
  if (!original.target.startsWith("/")) return invalidField("original URI", "must be a path starting with /");
  return assemble(profile, call, gateway, original);
}
