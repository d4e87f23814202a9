import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import puppeteer, { type Browser, type CDPSession, type Page } from "puppeteer-core";
import type { AuthenticationResponse, RegistrationResponse } from "../../src/api/webauthn.js";

// Debian's Chromium, driven over the DevTools protocol. Without the networking flags it keeps
// calling home, and on a closed network those connections are refused many at a time.
export const CHROMIUM = process.env.KEYGATE_CHROMIUM ?? "/usr/bin/chromium";
const FLAGS = [
  "--headless=new",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

export interface RunningBrowser {
  readonly browser: Browser;
  close(): Promise<void>;
}

export async function launchChromium(): Promise<RunningBrowser> {
  const profile = mkdtempSync(join(tmpdir(), "keygate-chromium-"));
  const browser = await puppeteer.launch({ executablePath: CHROMIUM, headless: true, args: [...FLAGS, `--user-data-dir=${profile}`] });
  return {
    browser,
    async close() {
      await browser.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** A blank page on http://localhost:<port>: an origin for a ceremony that is not the plugin's page. */
export interface BlankSite {
  readonly origin: string;
  stop(): Promise<void>;
}

export async function serveBlankSite(): Promise<BlankSite> {
  const server: Server = createServer((_req, res) => {
    res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
    res.end("<!doctype html><title>keygate test site</title><p>blank</p>");
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  return {
    origin: `http://localhost:${port}`,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

export interface AuthenticatorOptions {
  /** CTAP2 resident (discoverable) keys; false: the credential lives only in its id. */
  residentKey: boolean;
}

/** What CDP's WebAuthn.getCredentials gives: the private key too, so a test can clone it. */
export interface VirtualCredential {
  /** Standard base64, as CDP gives it. */
  credentialId: string;
  isResidentCredential: boolean;
  rpId?: string;
  privateKey: string;
  userHandle?: string;
  signCount: number;
}

/**
 * One page with one CTAP2 virtual authenticator (USB, presence and verification simulated):
 * a security key plugged into a browser. Ceremonies run in the page, at its origin, with the
 * options JSON a server gave; answers come back with the fields keygate's schemas list.
 */
export class VirtualSecurityKey {
  private constructor(
    readonly page: Page,
    private readonly cdp: CDPSession,
    readonly authenticatorId: string,
  ) {}

  static async plugIn(browser: Browser, options: AuthenticatorOptions, url?: string): Promise<VirtualSecurityKey> {
    const page = await browser.newPage();
    const cdp = await page.createCDPSession();
    await cdp.send("WebAuthn.enable", { enableUI: false });
    const { authenticatorId } = await cdp.send("WebAuthn.addVirtualAuthenticator", {
      options: {
        protocol: "ctap2",
        ctap2Version: "ctap2_1",
        transport: "usb",
        hasResidentKey: options.residentKey,
        hasUserVerification: true,
        isUserVerified: true,
        automaticPresenceSimulation: true,
      },
    });
    if (url) await page.goto(url);
    return new VirtualSecurityKey(page, cdp, authenticatorId);
  }

  goto(url: string): Promise<unknown> {
    return this.page.goto(url);
  }

  /** navigator.credentials.create with PublicKeyCredentialCreationOptionsJSON, at the page's origin. */
  async create(optionsJson: string): Promise<RegistrationResponse> {
    const json = String(await this.page.evaluate(ceremony("create", "parseCreationOptionsFromJSON", optionsJson)));
    return registrationFields(JSON.parse(json) as RegistrationResponse);
  }

  /** navigator.credentials.get with PublicKeyCredentialRequestOptionsJSON, at the page's origin. */
  async get(options: string | object): Promise<AuthenticationResponse> {
    const text = typeof options === "string" ? options : JSON.stringify(options);
    const json = String(await this.page.evaluate(ceremony("get", "parseRequestOptionsFromJSON", text)));
    return authenticationFields(JSON.parse(json) as AuthenticationResponse);
  }

  async credentials(): Promise<VirtualCredential[]> {
    const { credentials } = await this.cdp.send("WebAuthn.getCredentials", { authenticatorId: this.authenticatorId });
    return credentials;
  }

  /** Puts a credential (another authenticator's, or this one's with another counter) into this authenticator. */
  async addCredential(credential: VirtualCredential): Promise<void> {
    await this.cdp.send("WebAuthn.addCredential", { authenticatorId: this.authenticatorId, credential });
  }

  /** Winds this authenticator's counter for a credential back (or forward): what a clone shows. */
  async setSignCount(credentialId: string, signCount: number): Promise<void> {
    // CDP gives ids in standard base64; WebAuthn's JSON, in base64url.
    const credential = (await this.credentials()).find((candidate) => Buffer.from(candidate.credentialId, "base64").toString("base64url") === credentialId);
    if (!credential) throw new Error(`no credential ${credentialId} in this authenticator`);
    await this.cdp.send("WebAuthn.removeCredential", { authenticatorId: this.authenticatorId, credentialId: credential.credentialId });
    await this.addCredential({ ...credential, signCount });
  }

  async unplug(): Promise<void> {
    await this.cdp.send("WebAuthn.removeVirtualAuthenticator", { authenticatorId: this.authenticatorId });
    await this.page.close();
  }
}

// Run in the page as source text: this project compiles without the DOM's types.
function ceremony(call: "create" | "get", parse: string, optionsJson: string): string {
  return `(async () => {
    const publicKey = PublicKeyCredential.${parse}(${optionsJson});
    const credential = await navigator.credentials.${call}({ publicKey });
    return JSON.stringify(credential.toJSON());
  })()`;
}

/** The fields of a PublicKeyCredential's JSON that keygate's schema takes (kubectl refuses others). */
export function registrationFields(json: RegistrationResponse): RegistrationResponse {
  const { clientDataJSON, attestationObject, transports } = json.response;
  return {
    id: json.id,
    rawId: json.rawId,
    type: json.type,
    ...(json.authenticatorAttachment ? { authenticatorAttachment: json.authenticatorAttachment } : {}),
    response: { clientDataJSON, attestationObject, ...(transports ? { transports } : {}) },
  };
}

export function authenticationFields(json: AuthenticationResponse): AuthenticationResponse {
  const { clientDataJSON, authenticatorData, signature, userHandle } = json.response;
  return {
    id: json.id,
    rawId: json.rawId,
    type: json.type,
    ...(json.authenticatorAttachment ? { authenticatorAttachment: json.authenticatorAttachment } : {}),
    response: { clientDataJSON, authenticatorData, signature, ...(userHandle ? { userHandle } : {}) },
  };
}
