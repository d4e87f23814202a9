import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { readRequestBody } from "../http/body.js";
import { type RegistrationResponse, registrationResponse } from "../api/webauthn.js";

/** What the page shows once the operator has judged the key's answer. */
export interface Verdict {
  ok: boolean;
  message: string;
}

export interface RegistrationPageHandlers {
  /** The ceremony's PublicKeyCredentialCreationOptionsJSON as status.registration has it now; none while it is renewed. */
  options(): Promise<string | undefined>;
  /** Hands the browser's answer to the operator; resolves once it is judged. */
  answer(response: RegistrationResponse): Promise<Verdict>;
}

export interface RegistrationPage {
  readonly url: string;
  /** Settles once the verdict on the answer has been sent to the page (or the page went away). */
  readonly answered: Promise<void>;
  close(): Promise<void>;
}

// Runs in the browser: fetch the ceremony, let the key answer it, post back the fields keygate's
// schema lists (kubectl refuses others), show the verdict.
const SCRIPT = `
const button = document.getElementById("register");
const result = document.getElementById("result");
const show = (text, state) => { result.textContent = text; result.className = state; };

async function register() {
  button.disabled = true;
  try {
    const offer = await fetch("options");
    if (!offer.ok) throw new Error(await offer.text());
    const publicKey = PublicKeyCredential.parseCreationOptionsFromJSON(await offer.json());
    show("Touch your security key.", "");
    const json = (await navigator.credentials.create({ publicKey })).toJSON();
    const { clientDataJSON, attestationObject, transports } = json.response;
    const answer = { id: json.id, rawId: json.rawId, type: json.type, authenticatorAttachment: json.authenticatorAttachment,
                     response: { clientDataJSON, attestationObject, transports } };
    show("Checking the key's answer.", "");
    const sent = await fetch("registration", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(answer) });
    const verdict = await sent.json();
    show(verdict.message + " The key you touched made credential " + json.id + ": the terminal names the one registered.", verdict.ok ? "ok" : "refused");
  } catch (error) {
    show(error.message + " Try again.", "refused");
    button.disabled = false;
  }
}

button.addEventListener("click", register);
`;

const SCRIPT_HASH = createHash("sha256").update(SCRIPT).digest("base64");
// Nothing but this page's own script, and requests back to this server.
const CONTENT_SECURITY_POLICY = `default-src 'none'; script-src 'sha256-${SCRIPT_HASH}'; style-src 'unsafe-inline'; connect-src 'self'`;

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}

function page(heading: string): string {
  return `<!doctype html>
<html lang="en">
<meta charset="utf-8">
<title>keygate: register a security key</title>
<style>
  body { font-family: sans-serif; max-width: 40rem; margin: 3rem auto; }
  .ok { color: #1a7f37; } .refused { color: #cf222e; }
</style>
<h1>Register a security key</h1>
<p>${escapeHtml(heading)}</p>
<p>Plug in the key, press the button, then touch the key when it blinks.</p>
<button id="register">Register security key</button>
<p id="result" role="status"></p>
<script>${SCRIPT}</script>
</html>
`;
}

const MAX_ANSWER_BYTES = 64 * 1024;

function send(res: ServerResponse, status: number, type: string, body: string): void {
  res.writeHead(status, { "content-type": type, "cache-control": "no-store", "content-security-policy": CONTENT_SECURITY_POLICY, "referrer-policy": "no-referrer" });
  res.end(body);
}

function sendVerdict(res: ServerResponse, status: number, verdict: Verdict): void {
  res.setHeader("connection", "close");
  send(res, status, "application/json", JSON.stringify(verdict));
}

async function readAnswer(req: IncomingMessage): Promise<RegistrationResponse | string> {
  const body = await readRequestBody(req, MAX_ANSWER_BYTES);
  if (typeof body === "string") return body === "tooLarge" ? "the answer is too large" : "the answer did not arrive whole";
  let json: unknown;
  try {
    json = JSON.parse(body.toString("utf8"));
  } catch {
    return "the answer is not JSON";
  }
  const parsed = registrationResponse.safeParse(json);
  return parsed.success ? parsed.data : `the answer is not a registration response: ${parsed.error.issues[0]?.message ?? ""}`;
}

// The page's path: whoever does not know it gets the same 404 as for any other path.
function pathTokenRoutes(): { base: string; routeOf(url: string | undefined): string | undefined } {
  const base = `/${randomBytes(32).toString("base64url")}/`;
  const expected = Buffer.from(base);
  return {
    base,
    routeOf(url) {
      const given = Buffer.from((url ?? "").slice(0, base.length));
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
      return (url ?? "").slice(base.length);
    },
  };
}

/**
 * The page a person registers a key on, served on loopback: `http://localhost` is a secure
 * context, so the browser runs the ceremony there. Any local process can reach the port, so the
 * page lives under a random path only the terminal prints: without it there is nothing to fetch
 * and no answer to post. Requests naming another host are refused (a web page elsewhere cannot
 * rebind a name onto this port), and answers must come from this page's own origin. The first
 * answer is the only one taken.
 */
export async function serveRegistrationPage(port: number, heading: string, handlers: RegistrationPageHandlers): Promise<RegistrationPage> {
  const routes = pathTokenRoutes();
  let answered = false;
  let origin = "";
  let verdictSent = (): void => undefined;
  const sent = new Promise<void>((resolve) => (verdictSent = resolve));
  const takeAnswer = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (req.headers.origin !== origin) return sendVerdict(res, 403, { ok: false, message: `answers are taken from ${origin} only` });
    const answer = await readAnswer(req);
    if (typeof answer === "string") return sendVerdict(res, 400, { ok: false, message: answer });
    if (answered) return sendVerdict(res, 409, { ok: false, message: "an answer was already sent; see the terminal" });
    answered = true;
    // Settles on the verdict sent, or on the page going away while the answer is judged.
    res.once("close", verdictSent);
    sendVerdict(res, 200, await handlers.answer(answer));
  };
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = routes.routeOf(req.url);
    if (path === undefined) return send(res, 404, "text/plain", "not found");
    if (req.headers.host !== new URL(origin).host) return send(res, 421, "text/plain", "open the address kubectl keygate printed");
    const route = `${req.method ?? ""} ${path}`;
    if (route === "GET ") return send(res, 200, "text/html; charset=utf-8", page(heading));
    if (route === "POST registration") return takeAnswer(req, res);
    if (route !== "GET options") return send(res, 404, "text/plain", "not found");
    const options = await handlers.options();
    if (options === undefined) return send(res, 503, "text/plain", "the challenge is being renewed; try again in a moment.");
    send(res, 200, "application/json", options);
  };
  const server: Server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) send(res, 500, "text/plain", error instanceof Error ? error.message : String(error));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", resolve);
  });
  const address = server.address();
  origin = `http://localhost:${typeof address === "object" && address ? address.port : port}`;
  return {
    url: `${origin}${routes.base}`,
    answered: sent,
    // The browser keeps its connections open; the page has nothing more to say on them.
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
