import { type ClientIp, inNetworks, type Networks, parseClientIp } from "./ip.js";

export interface AddressInput {
  /** The socket's remote address. */
  readonly peer: string | undefined;
  /** Every X-Forwarded-For header value, in arrival order. */
  readonly forwardedFor: readonly string[];
  readonly trustedProxies: Networks;
}

// More hops than any real proxy chain; bounds the work a hostile header can cause.
const MAX_HOPS = 32;

/**
 * The nearest address that is not a trusted proxy, read right to left: each trusted hop appends
 * the address it received the request from, and anything left of the first untrusted hop was
 * written by the client and proves nothing. Undefined when an entry a trusted hop vouches for is
 * not an address: an unknown client is safer than a guessed one.
 */
export function nearestUntrustedHop(forwardedFor: readonly string[], trusted: Networks): ClientIp | undefined {
  const hops = forwardedFor.flatMap((value) => value.split(",")).slice(-MAX_HOPS);
  let client: ClientIp | undefined;
  for (let i = hops.length - 1; i >= 0; i--) {
    client = parseClientIp(hops[i] ?? "");
    if (!client || !inNetworks(trusted, client)) return client;
  }
  return client;
}

function trustedPeer(input: AddressInput): ClientIp | undefined {
  const peer = parseClientIp(input.peer ?? "");
  return peer && inNetworks(input.trustedProxies, peer) ? peer : undefined;
}

/**
 * The client of a request made to the verifier itself: the socket peer, or, when that peer is a
 * trusted proxy, the nearest untrusted hop of X-Forwarded-For.
 */
export function directClientIp(input: AddressInput): ClientIp | undefined {
  const peer = parseClientIp(input.peer ?? "");
  if (!peer || !inNetworks(input.trustedProxies, peer) || input.forwardedFor.length === 0) return peer;
  return nearestUntrustedHop(input.forwardedFor, input.trustedProxies);
}

/**
 * The client of a request a gateway describes (forward-auth). The socket peer is the gateway,
 * never the client, so only X-Forwarded-For counts, and only from a trusted gateway.
 */
export function gatewayClientIp(input: AddressInput): ClientIp | undefined {
  if (!trustedPeer(input) || input.forwardedFor.length === 0) return undefined;
  return nearestUntrustedHop(input.forwardedFor, input.trustedProxies);
}

/** A connection's peer, parsed, and whether it is a trusted proxy: the same for every request of the connection. */
export interface Peer {
  readonly ip: ClientIp | undefined;
  readonly trustedProxy: boolean;
}

export function peerOf(address: string | undefined, trustedProxies: Networks): Peer {
  const ip = parseClientIp(address ?? "");
  return { ip, trustedProxy: ip !== undefined && inNetworks(trustedProxies, ip) };
}
