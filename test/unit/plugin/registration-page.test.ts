import { request } from "node:http";
import { afterEach, describe, expect, it } from "vitest";
import type { RegistrationResponse } from "../../../src/api/webauthn.js";
import { type RegistrationPage, serveRegistrationPage } from "../../../src/plugin/registration-page.js";

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function send(url: string, options: { method?: string; path: string; headers?: Record<string, string>; body?: string }): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(new URL(options.path, url), { method: options.method ?? "GET", headers: options.headers }, (res) => {
      let body = "";
      res.on("data", (chunk: Buffer) => (body += chunk.toString("utf8")));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on("error", reject);
    req.end(options.body);
  });
}

const answer: RegistrationResponse = {
  id: "Y3JlZA",
  rawId: "Y3JlZA",
  type: "public-key",
  response: { clientDataJSON: "eyJ9", attestationObject: "o2Nm", transports: ["usb"] },
};

describe("the page mfa add-key serves", () => {
  let page: RegistrationPage | undefined;
  const received: RegistrationResponse[] = [];

  afterEach(async () => {
    await page?.close();
    received.length = 0;
  });

  // null: no challenge to hand out (it is being renewed).
  async function serve(options: string | null = '{"challenge":"Y2g"}'): Promise<{ url: string; origin: string }> {
    page = await serveRegistrationPage(0, "Security key alice-key for user alice.", {
      options: () => Promise.resolve(options ?? undefined),
      answer: (response) => {
        received.push(response);
        return Promise.resolve({ ok: true, message: "registered" });
      },
    });
    return { url: page.url, origin: new URL(page.url).origin };
  }

  // The client connects to 127.0.0.1 and names the host the browser would. Any local process can
  // send these headers: what keeps it out is the page's path, which only the terminal shows.
  const loopback = (url: string): string => url.replace("localhost", "127.0.0.1");
  const asBrowser = (url: string, extra: Record<string, string> = {}) => ({ host: new URL(url).host, ...extra });

  it("serves a self-contained page under a random path, its script allowed by hash and nothing else", async () => {
    const { url } = await serve();
    expect(url).toMatch(/^http:\/\/localhost:\d+\/[A-Za-z0-9_-]{43}\/$/);
    const got = await send(loopback(url), { path: "", headers: asBrowser(url) });
    expect(got.status).toBe(200);
    expect(got.body).toContain("Security key alice-key for user alice.");
    expect(got.body).toContain("PublicKeyCredential.parseCreationOptionsFromJSON");
    expect(got.body).not.toMatch(/<script[^>]+src=|<link|https?:\/\//);
    expect(got.headers["content-security-policy"]).toMatch(/^default-src 'none'; script-src 'sha256-[A-Za-z0-9+/]+=*';/);
    expect(got.headers["referrer-policy"]).toBe("no-referrer");
    const other = await serveRegistrationPage(0, "another", { options: () => Promise.resolve(undefined), answer: () => Promise.resolve({ ok: false, message: "" }) });
    await other.close();
    expect(new URL(other.url).pathname).not.toBe(new URL(url).pathname);
  });

  it("answers 404 to a request without the page's path, whatever headers it forges, and takes no answer from it", async () => {
    const { url, origin } = await serve();
    const token = new URL(url).pathname.split("/")[1] ?? "";
    const forged = asBrowser(url, { origin, "content-type": "application/json" });
    const outside = [
      { path: "/" },
      { path: "/options" },
      { method: "POST", path: "/registration", body: JSON.stringify(answer) },
      { path: `/${token}` },
      { path: `/${token.slice(0, -1)}/options` },
      { path: `/${token}x/options` },
      { path: `/x/${token}/options` },
      { method: "POST", path: `/${token.toUpperCase()}/registration`, body: JSON.stringify(answer) },
    ];
    for (const request of outside) {
      const got = await send(loopback(url), { ...request, headers: forged });
      expect([request.path, got.status, got.body]).toEqual([request.path, 404, "not found"]);
    }
    expect(received).toEqual([]);
  });

  it("hands out the current options, and says when there are none yet", async () => {
    const { url } = await serve();
    expect((await send(loopback(url), { path: "options", headers: asBrowser(url) })).body).toBe('{"challenge":"Y2g"}');
    await page?.close();
    const renewing = await serve(null);
    expect((await send(loopback(renewing.url), { path: "options", headers: asBrowser(renewing.url) })).status).toBe(503);
  });

  it("refuses requests that name another host, as a rebound name would", async () => {
    const { url } = await serve();
    const rebound = await send(loopback(url), { path: "options", headers: { host: "attacker.example:80" } });
    expect(rebound.status).toBe(421);
    expect(rebound.body).not.toContain(new URL(url).pathname);
  });

  it("takes the first answer from its own origin only, keeping the schema's fields", async () => {
    const { url, origin } = await serve();
    const post = (from: string, body: string) => send(loopback(url), { method: "POST", path: "registration", headers: asBrowser(url, { origin: from, "content-type": "application/json" }), body });
    const foreign = await post("https://attacker.example", JSON.stringify(answer));
    expect([foreign.status, received.length]).toEqual([403, 0]);
    const malformed = await post(origin, JSON.stringify({ id: "x" }));
    expect(malformed.status).toBe(400);
    const first = await post(origin, JSON.stringify({ ...answer, clientExtensionResults: {}, extra: 1 }));
    expect([first.status, JSON.parse(first.body)]).toEqual([200, { ok: true, message: "registered" }]);
    expect(received).toEqual([answer]);
    const second = await post(origin, JSON.stringify(answer));
    expect(second.status).toBe(409);
    expect(received).toHaveLength(1);
  });

  it("counts the answer as settled when the page goes away while it is judged, so the command never hangs on it", async () => {
    let judged = (): void => undefined;
    page = await serveRegistrationPage(0, "Security key alice-key for user alice.", {
      options: () => Promise.resolve("{}"),
      answer: () => new Promise((resolve) => (judged = () => resolve({ ok: true, message: "registered" }))),
    });
    const url = page.url;
    const req = request(new URL("registration", loopback(url)), { method: "POST", headers: asBrowser(url, { origin: new URL(url).origin, "content-type": "application/json" }) });
    req.on("error", () => undefined);
    req.end(JSON.stringify(answer));
    await new Promise((resolve) => setTimeout(resolve, 100));
    req.destroy();
    const settled = await Promise.race([page.answered.then(() => true), new Promise((resolve) => setTimeout(resolve, 2_000, false))]);
    judged();
    expect(settled).toBe(true);
  });
});
