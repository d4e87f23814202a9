import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { Socket } from "node:net";
import type { Duplex } from "node:stream";
import type { Logger } from "pino";
import type { Denial } from "../signing/errors.js";
import { type HttpRequestDescription, splitRequestTarget } from "../signing/request.js";
import { parseVerifyCall } from "./description.js";
import { apiError, type ApiError, isApiError } from "./errors.js";
import { describeForwarded, type Gateway, gatewayOf } from "./forward-auth.js";
import { forwardedFor, headerList, readBody, receiveBody, sendAndClose, sendJson, sendJsonText } from "./http-io.js";
import { type ClientIp, inNetworks, type Networks } from "./ip.js";
import type { KeyOwner } from "./key-table.js";
import { type OwnerLookupScope, visibleOwner } from "./owner-lookup.js";
import type { LastUsedBatcher } from "./last-used.js";
import type { Endpoint, VerifierMetrics } from "./metrics.js";
import { schemeOf } from "./scheme.js";
import { directClientIp, nearestUntrustedHop, type Peer, peerOf } from "./source-ip.js";
import type { Allowed, Outcome, Principal, Verification } from "./verification.js";
import type { MfaChecker } from "../otp/checker.js";
import type { ChallengeSubject } from "../webauthn/assertion-challenge.js";
import type { AssertionChecker } from "../webauthn/checker.js";
import { type MfaSubject, parseChallengeCall, parseMfaCall } from "./mfa-call.js";

export interface ServerDeps {
  readonly verification: Verification;
  readonly mfa: Pick<MfaChecker, "verify">;
  /** Security keys: assertion challenges, and assertions checked against them. */
  readonly securityKeys: Pick<AssertionChecker, "challenge" | "verify">;
  readonly owners: { owner(accessKeyId: string): KeyOwner | undefined };
  /** Default: cluster (any caller with a live key may look up any key). */
  readonly ownerLookupScope?: OwnerLookupScope;
  readonly ready: () => boolean;
  /** While shutting down: answers close their connection, so that clients reconnect to another replica. */
  readonly draining?: () => boolean;
  readonly metrics: VerifierMetrics;
  readonly lastUsed: Pick<LastUsedBatcher, "record">;
  readonly trustedProxies: Networks;
  /** Callers whose `sourceIp` in /v1/verify is believed. */
  readonly trustedCallers: Networks;
  /** Largest request body the verifier reads (a described body is limited to the same, decoded). */
  readonly maxBodyBytes: number;
  readonly now: () => Date;
  readonly log: Logger;
  /** Default: DEFAULT_SERVER_LIMITS. */
  readonly limits?: ServerLimits;
}

type Refusal = Denial | ApiError;

const OWNER_PATH = /^\/v1\/access-keys\/([^/]+)\/owner$/;
// A JSON description carries the body in base64 (4/3 larger) beside headers and the URL.
const DESCRIPTION_OVERHEAD_BYTES = 256 * 1024;

export const GATEWAY_HEADERS = {
  namespace: "x-keygate-namespace",
  user: "x-keygate-user",
  accessKeyId: "x-keygate-access-key-id",
  credentialType: "x-keygate-credential-type",
  payloadVerified: "x-keygate-payload-verified",
  service: "x-keygate-service",
  region: "x-keygate-region",
  date: "x-keygate-date",
  errorCode: "x-keygate-error-code",
} as const;

function refusalBody(refusal: Refusal): unknown {
  return { allowed: false, code: refusal.code, message: refusal.message };
}

/** The credential scope and signing date too, so that a backend can check what the signature was for. */
export function allowedBody(outcome: Allowed): unknown {
  const { principal, scheme, payloadVerified, service, region, date } = outcome;
  return { allowed: true, principal, scheme, payloadVerified, service, region, date };
}

// A principal's JSON is the same for every request of its key: made once per principal object
// (verification.ts keeps one per indexed key).
const principalJson = new WeakMap<object, string>();

function principalText(principal: Allowed["principal"]): string {
  let text = principalJson.get(principal);
  if (text === undefined) {
    text = JSON.stringify(principal);
    principalJson.set(principal, text);
  }
  return text;
}

const optionalField = (name: string, value: string | undefined): string => (value === undefined ? "" : `,"${name}":${JSON.stringify(value)}`);

/** JSON.stringify(allowedBody(outcome)), byte for byte, without walking the principal again. */
export function allowedText(outcome: Allowed): string {
  const { scheme, payloadVerified, service, region, date } = outcome;
  return (
    `{"allowed":true,"principal":${principalText(outcome.principal)},"scheme":${JSON.stringify(scheme)},"payloadVerified":${String(payloadVerified)}` +
    `${optionalField("service", service)}${optionalField("region", region)},"date":${JSON.stringify(date)}}`
  );
}

/**
 * The same as headers for the gateway to pass upstream (with the answer's empty length). Every one is always sent, empty when the
 * scheme has no scope: a gateway that copies only headers present in the answer (Envoy) would
 * otherwise pass on a client's own X-Keygate-Service.
 */
function allowedHeaders(outcome: Allowed): Record<string, string | number> {
  return {
    "content-length": 0,
    [GATEWAY_HEADERS.namespace]: outcome.principal.namespace,
    [GATEWAY_HEADERS.user]: outcome.principal.user,
    [GATEWAY_HEADERS.accessKeyId]: outcome.principal.accessKeyId,
    [GATEWAY_HEADERS.credentialType]: outcome.principal.credentialType,
    [GATEWAY_HEADERS.payloadVerified]: String(outcome.payloadVerified),
    [GATEWAY_HEADERS.date]: outcome.date,
    [GATEWAY_HEADERS.service]: outcome.service ?? "",
    [GATEWAY_HEADERS.region]: outcome.region ?? "",
  };
}

/**
 * Gateways act on the status alone: NGINX auth_request knows only 2xx, 401 and 403. So a request
 * without any signature is 401, a retryable refusal 503, and every other refusal 403.
 */
function gatewayStatus(refusal: Refusal): number {
  if (refusal.code === "MissingAuthenticationToken") return 401;
  return refusal.httpStatus === 503 ? 503 : 403;
}

/** The path of a request target, without splitting off (and allocating) the query. */
function pathOf(target: string): string {
  const mark = target.indexOf("?");
  return mark < 0 ? target : target.slice(0, mark);
}

function elapsedSeconds(start: bigint): number {
  return Number(process.hrtime.bigint() - start) / 1e9;
}

/** Requests of the same millisecond share their last-used time: its ISO text is made once. */
class IsoClock {
  private ms = Number.NaN;
  private text = "";

  constructor(private readonly now: () => Date) {}

  nowText(): string {
    const date = this.now();
    const ms = date.getTime();
    if (ms !== this.ms) {
      this.text = date.toISOString();
      this.ms = ms;
    }
    return this.text;
  }
}

/** An answer still to come (a nonce being claimed, an MFA check): its failure is the caller's to answer. */
type Pending = Promise<void> | undefined;

class Handler {
  private readonly clock: IsoClock;
  // A socket's peer never changes: its address is parsed and matched against the trusted networks once per connection.
  private readonly peers = new WeakMap<object, Peer>();
  private readonly mfaRoutes = new Map<string, (req: IncomingMessage, res: ServerResponse) => Promise<void>>([
    ["/v1/mfa/verify", (req, res) => this.mfaVerify(req, res)],
    ["/v1/mfa/challenge", (req, res) => this.mfaChallenge(req, res)],
  ]);

  constructor(private readonly deps: ServerDeps) {
    this.clock = new IsoClock(deps.now);
  }

  /**
   * Synchronous from arrival to answer for /v1/verify and forward-auth (no promise, unless an
   * ACS3 nonce must be claimed); what is still pending is returned, for its failure to be answered.
   */
  handle(req: IncomingMessage, res: ServerResponse): Pending {
    const target = req.url ?? "";
    const rawPath = pathOf(target);
    if (rawPath === "/v1/verify") return this.allow(req, res, "POST") ? this.verify(req, res) : undefined;
    const gateway = gatewayOf(rawPath);
    if (gateway) return this.forwardAuth(req, res, gateway);
    const mfa = this.mfaRoutes.get(rawPath);
    if (mfa) return this.allow(req, res, "POST") ? mfa(req, res) : undefined;
    const owner = OWNER_PATH.exec(rawPath);
    if (owner) return this.allow(req, res, "GET") ? this.owner(req, res, owner[1] ?? "") : undefined;
    return this.probe(req, res, rawPath);
  }

  private async probe(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    if (path === "/healthz") return sendJson(res, 200, { status: "ok" });
    if (path === "/readyz") return sendJson(res, this.deps.ready() ? 200 : 503, { ready: this.deps.ready() });
    if (path !== "/metrics") return sendJson(res, 404, refusalBody(apiError("NotFound", "no such endpoint")));
    const text = await this.deps.metrics.text();
    res.writeHead(200, { "content-type": this.deps.metrics.contentType });
    res.end(text);
  }

  private allow(req: IncomingMessage, res: ServerResponse, method: string): boolean {
    if (req.method === method) return true;
    sendJson(res, 405, refusalBody(apiError("MethodNotAllowed", `use ${method}`)), { allow: method });
    return false;
  }

  private peer(req: IncomingMessage): Peer {
    const socket = req.socket;
    let peer = this.peers.get(socket);
    if (peer === undefined) {
      peer = peerOf(socket.remoteAddress, this.deps.trustedProxies);
      this.peers.set(socket, peer);
    }
    return peer;
  }

  /** The body, or an answer already sent (undefined: nothing more to do). */
  private async body(req: IncomingMessage, res: ServerResponse, limit: number, context: AnswerContext): Promise<Buffer | undefined> {
    const body = await readBody(req, limit);
    return this.usableBody(res, body, context);
  }

  private usableBody(res: ServerResponse, body: Buffer | ApiError | undefined, context: AnswerContext): Buffer | undefined {
    if (!isApiError(body)) return body;
    this.count(context, body.code);
    sendAndClose(res, body.httpStatus, refusalBody(body));
    return undefined;
  }

  /**
   * Calls `next` with the body once it is all there, at once when there is none. Whatever `next`
   * throws or rejects with is answered as unverifiable, as for any other check.
   */
  private withBody(arrival: Arrival, limit: number, next: (body: Buffer) => Pending): Pending {
    let pending: Pending;
    let synchronous = true;
    receiveBody(arrival.req, limit, (received) => {
      if (synchronous) {
        pending = this.continueWith(arrival, received, next);
        return;
      }
      // Later, from the request's own 'end' event: nobody up the stack would catch a throw.
      try {
        this.continueWith(arrival, received, next)?.catch((error: unknown) => unverifiable(this.deps, arrival.res, error));
      } catch (error) {
        unverifiable(this.deps, arrival.res, error);
      }
    });
    synchronous = false;
    return pending;
  }

  private continueWith(arrival: Arrival, received: Buffer | ApiError | undefined, next: (body: Buffer) => Pending): Pending {
    const body = this.usableBody(arrival.res, received, arrival);
    return body === undefined ? undefined : next(body);
  }

  private verify(req: IncomingMessage, res: ServerResponse): Pending {
    const arrival: Arrival = { req, res, endpoint: "verify", scheme: "none", start: process.hrtime.bigint() };
    const limit = Math.ceil((this.deps.maxBodyBytes * 4) / 3) + DESCRIPTION_OVERHEAD_BYTES;
    return this.withBody(arrival, limit, (text) => this.verifyDescribed(arrival, text));
  }

  private verifyDescribed(arrival: Arrival, text: Buffer): Pending {
    const call = parseVerifyCall(text.toString("utf8"), this.deps.maxBodyBytes);
    if (isApiError(call)) return this.refuse(arrival.res, arrival, call);
    // The caller relays someone else's request: its own address says nothing about that client.
    const outcome = this.deps.verification.verifyNow(call.request, this.callerTrusted(arrival.req) ? call.sourceIp : undefined);
    if (outcome instanceof Promise) return outcome.then((settled) => this.verified(arrival, call.request, settled));
    return this.verified(arrival, call.request, outcome);
  }

  /** The caller of /v1/verify (the socket peer, or behind a trusted proxy the nearest untrusted hop) is a trusted one. */
  private callerTrusted(req: IncomingMessage): boolean {
    const peer = this.peer(req);
    if (!peer.trustedProxy) return peer.ip !== undefined && inNetworks(this.deps.trustedCallers, peer.ip);
    const caller = directClientIp({ peer: req.socket.remoteAddress, forwardedFor: forwardedFor(req), trustedProxies: this.deps.trustedProxies });
    return caller !== undefined && inNetworks(this.deps.trustedCallers, caller);
  }

  private verified(arrival: Arrival, request: HttpRequestDescription, outcome: Outcome): undefined {
    const context = answered(arrival, request, outcome);
    if (!outcome.allowed) return this.refuse(arrival.res, context, outcome);
    this.accepted(outcome, context);
    sendJsonText(arrival.res, 200, allowedText(outcome));
    return undefined;
  }

  private forwardAuth(req: IncomingMessage, res: ServerResponse, gateway: Gateway): Pending {
    const arrival: Arrival = { req, res, endpoint: "forward-auth", scheme: "none", start: process.hrtime.bigint() };
    return this.withBody(arrival, this.deps.maxBodyBytes, (body) => this.forwardAuthReceived(arrival, gateway, body));
  }

  private forwardAuthReceived(arrival: Arrival, gateway: Gateway, body: Buffer): Pending {
    const { req } = arrival;
    const headers = headerList(req.rawHeaders);
    const auth = { method: req.method ?? "", target: req.url ?? "", headers, body: body.length > 0 ? body : undefined };
    const forwarded = describeForwarded(gateway, auth);
    if (isApiError(forwarded)) return this.refuse(arrival.res, arrival, forwarded);
    const client = this.gatewayClient(req, forwarded.forwardedFor);
    const outcome = this.deps.verification.verifyNow(forwarded.request, client);
    if (outcome instanceof Promise) return outcome.then((settled) => this.forwardVerified(arrival, forwarded.request, settled));
    return this.forwardVerified(arrival, forwarded.request, outcome);
  }

  /** The client a gateway describes: only X-Forwarded-For counts, and only from a trusted gateway. */
  private gatewayClient(req: IncomingMessage, forwardedFor: readonly string[]): ClientIp | undefined {
    const peer = this.peer(req);
    if (!peer.trustedProxy || forwardedFor.length === 0) return undefined;
    return nearestUntrustedHop(forwardedFor, this.deps.trustedProxies);
  }

  private forwardVerified(arrival: Arrival, request: HttpRequestDescription, outcome: Outcome): undefined {
    const { res } = arrival;
    const context = answered(arrival, request, outcome);
    if (!outcome.allowed) {
      this.noteRefusal(context, outcome.code);
      sendJson(res, gatewayStatus(outcome), refusalBody(outcome), { [GATEWAY_HEADERS.errorCode]: outcome.code });
      return undefined;
    }
    this.accepted(outcome, context);
    res.writeHead(200, allowedHeaders(outcome));
    res.end();
    return undefined;
  }

  /** This request itself, authenticated by its own signature; undefined once a refusal is sent. */
  private async authenticated(
    req: IncomingMessage,
    res: ServerResponse,
    endpoint: Endpoint,
  ): Promise<{ outcome: Allowed; body: Buffer } | undefined> {
    const arrival: AnswerContext = { endpoint, scheme: "none", start: process.hrtime.bigint() };
    const body = await this.body(req, res, this.deps.maxBodyBytes, arrival);
    if (body === undefined) return undefined;
    const request: HttpRequestDescription = {
      method: req.method ?? "",
      ...splitRequestTarget(req.url ?? ""),
      headers: headerList(req.rawHeaders),
      body,
    };
    const client = directClientIp({ peer: req.socket.remoteAddress, forwardedFor: forwardedFor(req), trustedProxies: this.deps.trustedProxies });
    const outcome: Outcome = await this.deps.verification.verifyNow(request, client);
    const context = { ...arrival, scheme: schemeOf(request) };
    if (!outcome.allowed) {
      this.refuse(res, context, outcome);
      return undefined;
    }
    this.accepted(outcome, context);
    return { outcome, body };
  }

  /**
   * An MFA call's body, from a request signed by a key of the namespace it names (the namespace
   * is the account); undefined once a refusal is sent.
   */
  private async mfaCall<T extends MfaSubject>(
    req: IncomingMessage,
    res: ServerResponse,
    endpoint: Endpoint,
    parse: (text: string) => T | ApiError,
  ): Promise<{ call: T; caller: Principal } | undefined> {
    const caller = await this.authenticated(req, res, endpoint);
    if (!caller) return undefined;
    // The body names whose device to check: unsigned, it could be swapped for any user's.
    if (!caller.outcome.payloadVerified) {
      sendJson(res, 403, UNSIGNED_MFA_BODY);
      return undefined;
    }
    const call = parse(caller.body.toString("utf8"));
    if (isApiError(call)) {
      sendJson(res, call.httpStatus, refusalBody(call));
      return undefined;
    }
    if (call.namespace !== caller.outcome.principal.namespace) {
      sendJson(res, 403, refusalBody(apiError("AccessDenied", "MFA devices can be checked only by a key of the same namespace")));
      return undefined;
    }
    return { call, caller: caller.outcome.principal };
  }

  /** A code of the user's virtual device, or an assertion by one of the user's security keys. */
  private async mfaVerify(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const checked = await this.mfaCall(req, res, "mfa", parseMfaCall);
    if (!checked) return;
    const { call, caller } = checked;
    // The requester a verify challenge is bound to is the signing key, never a field of the body.
    const answer =
      "code" in call
        ? await this.deps.mfa.verify(call.namespace, call.user, call.code)
        : await this.deps.securityKeys.verify({ namespace: call.namespace, user: call.user, accessKeyId: caller.accessKeyId }, call.assertion);
    this.deps.metrics.mfaChecked("code" in call ? "code" : "assertion", answer.valid ? "valid" : answer.code);
    if (answer.valid || answer.code !== "MfaLocked") return sendJson(res, 200, answer);
    const { retryAfterSeconds, ...locked } = answer;
    sendJson(res, 429, locked, { "retry-after": String(retryAfterSeconds) });
  }

  /** The options for navigator.credentials.get(): a challenge for this user and purpose only (a verify one, for the calling key only), and the user's keys. */
  private async mfaChallenge(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const checked = await this.mfaCall(req, res, "mfa-challenge", parseChallengeCall);
    if (!checked) return;
    const { call, caller } = checked;
    const { namespace, user } = call;
    const subject: ChallengeSubject =
      call.purpose === "verify" ? { namespace, user, purpose: "verify", accessKeyId: caller.accessKeyId } : { namespace, user, purpose: "session" };
    const answer = await this.deps.securityKeys.challenge(subject);
    if (answer.found) return sendJson(res, 200, answer.options);
    sendJson(res, 404, { code: answer.code, message: answer.message });
  }

  /** GetAccessKeyInfo: the request must itself be signed with a live key. */
  private async owner(req: IncomingMessage, res: ServerResponse, accessKeyId: string): Promise<void> {
    const caller = await this.authenticated(req, res, "owner");
    if (!caller) return;
    const owner = visibleOwner(this.deps.owners.owner(accessKeyId), caller.outcome.principal.namespace, this.deps.ownerLookupScope ?? "cluster");
    if (!owner) return sendJson(res, 404, refusalBody(apiError("NoSuchEntity", "no access key with this id is known")));
    sendJson(res, 200, owner);
  }

  private refuse(res: ServerResponse, context: AnswerContext, refusal: Refusal): undefined {
    this.noteRefusal(context, refusal.code);
    sendJson(res, refusal.httpStatus, refusalBody(refusal));
    return undefined;
  }

  // Debug only: refusals are the normal answer to probing, and each one is counted anyway.
  private noteRefusal(context: AnswerContext, code: string): void {
    this.count(context, code);
    this.deps.log.debug({ endpoint: context.endpoint, scheme: context.scheme, code }, "verification refused");
  }

  private accepted(outcome: Allowed, context: AnswerContext): void {
    this.count(context, "Allowed");
    if (!outcome.accessKey) return;
    this.deps.lastUsed.record(outcome.accessKey, {
      time: this.clock.nowText(),
      service: outcome.service,
      region: outcome.region,
      sourceIP: outcome.sourceIp,
    });
  }

  private count(context: AnswerContext, code: string): void {
    this.deps.metrics.observe(context.endpoint, context.scheme, code, elapsedSeconds(context.start));
  }
}

interface AnswerContext {
  readonly endpoint: Endpoint;
  readonly scheme: string;
  readonly start: bigint;
}

/** A request on its way: counted with no scheme until one is known. */
interface Arrival extends AnswerContext {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly scheme: "none";
}

/** The metric labels of a verified request: the scheme it claims (an allowed one's is the scheme that verified). */
function answered(arrival: Arrival, request: HttpRequestDescription, outcome: Outcome): AnswerContext {
  return { endpoint: arrival.endpoint, scheme: outcome.allowed ? outcome.scheme : schemeOf(request), start: arrival.start };
}

/** What one client can make the server hold: sizes, counts and times, each with a flag. */
export interface ServerLimits {
  /** Bytes of the request line and headers together (Node's parser answers 431 above it). */
  readonly maxHeaderBytes: number;
  /** Header lines of one request (431 above it). */
  readonly maxHeaderCount: number;
  /** Open connections; one more is answered 503 and closed. */
  readonly maxConnections: number;
  /** Time to receive the request line and headers (then 408). */
  readonly headersTimeoutMs: number;
  /** Time to receive the whole request, body included (then 408). */
  readonly requestTimeoutMs: number;
}

// A presigned URL with a session token is a few KiB, and SDK requests carry a few dozen headers;
// a gateway's call adds its own. A body of 8 MiB crosses a cluster network in well under a second.
export const DEFAULT_SERVER_LIMITS: ServerLimits = {
  maxHeaderBytes: 96 * 1024,
  maxHeaderCount: 256,
  maxConnections: 4096,
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 20_000,
};

const HEADERS_TOO_LARGE = refusalBody(apiError("RequestHeaderFieldsTooLarge", "the request has too many headers, or too large ones"));
const REQUEST_TIMEOUT = refusalBody(apiError("RequestTimeout", "the request was not received in time"));
const UNPARSABLE = refusalBody(apiError("InvalidRequest", "the request could not be parsed as HTTP"));
const TOO_MANY_CONNECTIONS = refusalBody(apiError("ServiceUnavailable", "too many open connections; retry later"));
const UNSIGNED_MFA_BODY = refusalBody(apiError("AccessDenied", "the body must be signed: sign its SHA-256, not UNSIGNED-PAYLOAD"));

/** A raw answer for a socket no handler will see, closing it. */
function rawAnswer(socket: Duplex, status: string, body: unknown, extra = ""): void {
  const text = JSON.stringify(body);
  socket.end(`HTTP/1.1 ${status}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(text)}\r\n${extra}connection: close\r\n\r\n${text}`);
}

/**
 * What Node's HTTP parser refuses (control characters, a header name that is not a token, headers
 * over maxHeaderSize) never reaches a handler; it still gets a 4xx with a JSON code.
 */
function answerUnparsable(error: Error & { code?: string }, socket: Duplex): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  if (error.code === "HPE_HEADER_OVERFLOW") return rawAnswer(socket, "431 Request Header Fields Too Large", HEADERS_TOO_LARGE);
  if (error.code === "ERR_HTTP_REQUEST_TIMEOUT") return rawAnswer(socket, "408 Request Timeout", REQUEST_TIMEOUT);
  rawAnswer(socket, "400 Bad Request", UNPARSABLE);
}

/**
 * A check that threw is a refusal of that request, not a failure of the verifier: input must
 * not be able to make it answer 5xx or log at error level. The error's name only is logged (its
 * message could quote input), at warn, so that the bug is seen and fixed.
 */
function unverifiable(deps: ServerDeps, res: ServerResponse, error: unknown): void {
  const name = error instanceof Error ? error.name : typeof error;
  deps.log.warn({ error: name }, "a verification check threw; the request is refused");
  if (!res.headersSent) sendJson(res, 400, refusalBody(apiError("UnverifiableRequest", "the request could not be verified")));
  else res.destroy();
}

/**
 * Past the connection cap a new connection is told 503 (real overload: retry elsewhere or later)
 * and closed before anything of it is read.
 */
function capConnections(server: Server, max: number): void {
  let open = 0;
  server.on("connection", (socket: Socket) => {
    open++;
    socket.once("close", () => open--);
    if (open <= max) return;
    rawAnswer(socket, "503 Service Unavailable", TOO_MANY_CONNECTIONS, "retry-after: 1\r\n");
  });
}

/** The verifier's HTTP server; every route answers JSON with a stable code, and nothing it is sent makes it throw. */
export function createVerifierServer(deps: ServerDeps): Server {
  const limits = deps.limits ?? DEFAULT_SERVER_LIMITS;
  const handler = new Handler(deps);
  const server = createServer(
    { maxHeaderSize: limits.maxHeaderBytes, headersTimeout: limits.headersTimeoutMs, requestTimeout: limits.requestTimeoutMs, connectionsCheckingInterval: 1000 },
    (req, res) => {
      if (req.rawHeaders.length / 2 > limits.maxHeaderCount) return sendAndClose(res, 431, HEADERS_TOO_LARGE);
      if (deps.draining?.() === true) res.shouldKeepAlive = false;
      try {
        handler.handle(req, res)?.catch((error: unknown) => unverifiable(deps, res, error));
      } catch (error) {
        unverifiable(deps, res, error);
      }
    },
  );
  // One more than allowed is kept, so that a request over the limit is seen, and refused.
  server.maxHeadersCount = limits.maxHeaderCount + 1;
  server.on("clientError", answerUnparsable);
  capConnections(server, limits.maxConnections);
  // Longer than the idle timeout of gateways' upstream pools (NGINX: 60 s), so the verifier is
  // never the side that closes a connection a gateway is about to reuse.
  server.keepAliveTimeout = 65_000;
  return server;
}
