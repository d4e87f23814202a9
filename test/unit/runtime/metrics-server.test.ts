import { pino } from "pino";
import { Counter, Registry } from "prom-client";
import { afterEach, describe, expect, it } from "vitest";
import { MetricsServer } from "../../../src/runtime/metrics-server.js";

const logger = pino({ level: "silent" });

describe("MetricsServer", () => {
  let server: MetricsServer | undefined;

  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  async function serve(registry: Registry): Promise<string> {
    server = new MetricsServer(registry, logger);
    const port = await server.listen("127.0.0.1", 0);
    return `http://127.0.0.1:${port}`;
  }

  it("serves the registry on GET /metrics with the registry's content type", async () => {
    const registry = new Registry();
    new Counter({ name: "things_total", help: "Things.", registers: [registry] }).inc(2);
    const url = await serve(registry);
    const response = await fetch(`${url}/metrics?name[]=ignored`);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe(registry.contentType);
    expect(await response.text()).toContain("things_total 2");
  });

  it("answers 404 on any other path and 405 to another method", async () => {
    const url = await serve(new Registry());
    expect((await fetch(`${url}/`)).status).toBe(404);
    expect((await fetch(`${url}/healthz`)).status).toBe(404);
    const post = await fetch(`${url}/metrics`, { method: "POST" });
    expect(post.status).toBe(405);
    expect(post.headers.get("allow")).toBe("GET, HEAD");
  });

  it("answers 500 when a collector throws, and keeps serving", async () => {
    const registry = new Registry();
    let broken = true;
    new Counter({
      name: "fragile_total",
      help: "Fails while broken.",
      registers: [registry],
      collect() {
        if (broken) throw new Error("cache not ready");
      },
    });
    const url = await serve(registry);
    expect((await fetch(`${url}/metrics`)).status).toBe(500);
    broken = false;
    expect((await fetch(`${url}/metrics`)).status).toBe(200);
  });

  it("refuses to listen on a port already taken", async () => {
    const url = await serve(new Registry());
    const second = new MetricsServer(new Registry(), logger);
    await expect(second.listen("127.0.0.1", Number(new URL(url).port))).rejects.toThrow(/EADDRINUSE/);
  });
});
