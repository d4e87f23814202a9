import type { AddressInfo } from "node:net";
import type { Server } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { HttpRequestDescription } from "../../../src/signing/request.js";
import type { KeyOwner } from "../../../src/verifier/key-table.js";
import { isOwnerLookupScope, type OwnerLookupScope, visibleOwner } from "../../../src/verifier/owner-lookup.js";
import { createVerifierServer } from "../../../src/verifier/server.js";
import { signSigV4 } from "../../support/signers/sigv4.js";
import { httpSend } from "../../support/verifier-http.js";
import { KEY_ID, SECRET } from "./fake-keys.js";
import { serverDeps } from "./server-deps.js";

const teamKey: KeyOwner = { accessKeyId: "KGASTEAMTEAMTEAMTEAM", namespace: "team", user: "bob" };
const otherKey: KeyOwner = { accessKeyId: "KGASOTHEROTHEROTHERO", namespace: "other", user: "carol" };

describe("which owner a caller may see", () => {
  const cases: Array<[string, KeyOwner | undefined, OwnerLookupScope, KeyOwner | undefined]> = [
    ["cluster scope shows a key of the caller's namespace", teamKey, "cluster", teamKey],
    ["cluster scope shows a key of another namespace", otherKey, "cluster", otherKey],
    ["namespace scope shows a key of the caller's namespace", teamKey, "namespace", teamKey],
    ["namespace scope hides a key of another namespace, as if unknown", otherKey, "namespace", undefined],
    ["an unknown key stays unknown in either scope", undefined, "cluster", undefined],
  ];
  it.each(cases)("%s", (_name, owner, scope, expected) => {
    expect(visibleOwner(owner, "team", scope)).toEqual(expected);
  });

  it("knows the two scopes and nothing else", () => {
    expect(["cluster", "namespace", "Cluster", ""].map(isOwnerLookupScope)).toEqual([true, true, false, false]);
  });
});

describe("owner lookups limited to the caller's namespace, in-process", () => {
  // The caller signs with the fake key of namespace "team".
  const owners = new Map([teamKey, otherKey].map((owner) => [owner.accessKeyId, owner]));
  let server: Server;
  let url = "";

  beforeAll(async () => {
    server = createVerifierServer(serverDeps({ ownerLookupScope: "namespace", owners: { owner: (id) => owners.get(id) } }));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  async function lookUp(accessKeyId: string): Promise<{ status: number; body: string }> {
    const request: HttpRequestDescription = { method: "GET", rawPath: `/v1/access-keys/${accessKeyId}/owner`, rawQuery: "", headers: [["Host", new URL(url).host]] };
    const signed = signSigV4(request, { accessKeyId: KEY_ID, secret: SECRET, region: "local", service: "sts" }, new Date());
    const answer = await httpSend(url, { method: "GET", target: request.rawPath, headers: signed.headers });
    return { status: answer.status, body: JSON.stringify(answer.json) };
  }

  it("answers for a key of the caller's namespace", async () => {
    expect(await lookUp(teamKey.accessKeyId)).toEqual({ status: 200, body: JSON.stringify(teamKey) });
  });

  it("answers for another namespace's key exactly as for an id nobody holds", async () => {
    const hidden = await lookUp(otherKey.accessKeyId);
    const unknown = await lookUp("KGASNOPENOPENOPENOPE");
    expect(hidden.status).toBe(404);
    expect(hidden).toEqual(unknown);
  });
});
