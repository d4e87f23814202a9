// The side of a benchmark server process that talks to the benchmark: it reports the port it
// listens on (127.0.0.1 only), answers CPU-usage questions, and exits when told to, when the
// benchmark goes away, or after a hard time limit, whichever comes first.
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";

export type ToChild = { readonly type: "cpu" } | { readonly type: "stop" };
export type FromChild =
  | { readonly type: "listening"; readonly port: number }
  | { readonly type: "cpu"; readonly userMicros: number; readonly systemMicros: number };

// No benchmark run lasts this long: a server left behind by a crashed run still goes away.
const MAX_LIFETIME_MS = 10 * 60 * 1000;

function send(message: FromChild): void {
  process.send?.(message);
}

export function serveChild(server: Server): void {
  if (process.send === undefined) throw new Error("run this file through the benchmark (it needs an IPC channel)");
  const lifetime = setTimeout(() => process.exit(0), MAX_LIFETIME_MS);
  lifetime.unref();
  const stop = (): void => {
    server.close();
    server.closeAllConnections();
    process.exit(0);
  };
  process.on("message", (message: ToChild) => {
    if (message.type === "stop") stop();
    else {
      const usage = process.cpuUsage();
      send({ type: "cpu", userMicros: usage.user, systemMicros: usage.system });
    }
  });
  process.on("disconnect", stop);
  server.keepAliveTimeout = 65_000;
  server.listen(0, "127.0.0.1", () => send({ type: "listening", port: (server.address() as AddressInfo).port }));
}
