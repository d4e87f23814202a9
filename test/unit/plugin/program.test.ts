import { ApiException, KubeConfig } from "@kubernetes/client-node";
import { CommanderError } from "commander";
import { COMPLETE_COMMAND } from "../../../src/plugin/completion.js";
import { describe, expect, it } from "vitest";
import { errorLine, exitCodeOf } from "../../../src/plugin/errors.js";
import { PluginError, UsageError } from "../../../src/plugin/exit.js";
import { buildPluginProgram } from "../../../src/plugin/program.js";
import { namespaceOf, userMappingOf } from "../../../src/plugin/session.js";

function parse(args: string[]): Promise<unknown> {
  const program = buildPluginProgram();
  program.configureOutput({ writeOut: () => undefined, writeErr: () => undefined });
  for (const command of program.commands) command.configureOutput({ writeOut: () => undefined, writeErr: () => undefined });
  return program.parseAsync(["node", "kubectl-keygate", ...args]).then(
    () => undefined,
    (error: unknown) => error,
  );
}

describe("the plugin's command line", () => {
  it.each([
    ["an unknown command", ["nope"]],
    ["an unknown option", ["create-key", "--nope"]],
    ["an -o format kubectl does not know", ["keys", "-o", "xml"]],
    ["a --dry-run mode other than client or server", ["create-key", "--dry-run=all"]],
    ["no command at all", []],
  ])("is a usage error, exit code 2, for %s", async (_, args) => {
    expect(exitCodeOf(await parse(args))).toBe(2);
  });

  it("exits 0 for --help, on the program and on a command", async () => {
    expect(exitCodeOf(await parse(["--help"]))).toBe(0);
    expect(exitCodeOf(await parse(["create-key", "--help"]))).toBe(0);
  });

  it("gives every command help with examples", () => {
    for (const command of buildPluginProgram().commands) {
      // help is commander's; __complete is kubectl's completion protocol, never typed.
      if (command.name() === "help" || command.name() === COMPLETE_COMMAND) continue;
      let help = "";
      command.configureOutput({ writeOut: (text) => (help += text) });
      command.outputHelp();
      expect(help, command.name()).toContain("Examples:");
    }
  });

  it("exits 1 for a refusal, 2 for a bad argument value", () => {
    expect(exitCodeOf(new PluginError("no"))).toBe(1);
    expect(exitCodeOf(new UsageError("bad"))).toBe(2);
    expect(exitCodeOf(new CommanderError(1, "commander.unknownOption", "error: unknown option"))).toBe(2);
  });

  it("prints the API server's message, an admission webhook's verbatim, on one line", () => {
    const body = JSON.stringify({ kind: "Status", message: 'admission webhook "accesskeys.iam.keygate.dev" denied the request: user alice has 2 access keys\nalready' });
    expect(errorLine(new ApiException(403, "Forbidden", body, {}))).toBe('admission webhook "accesskeys.iam.keygate.dev" denied the request: user alice has 2 access keys already');
    expect(errorLine(new ApiException(503, "x", "not json", {}))).toBe("the API server answered HTTP 503");
  });

  it("takes the namespace from -n, else the context, else default", () => {
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: "c", server: "https://127.0.0.1:1" }],
      users: [{ name: "u" }],
      contexts: [
        { name: "with", cluster: "c", user: "u", namespace: "team-a" },
        { name: "without", cluster: "c", user: "u" },
      ],
      currentContext: "with",
    });
    expect(namespaceOf(kc, "team-b")).toBe("team-b");
    expect(namespaceOf(kc, undefined)).toBe("team-a");
    kc.setCurrentContext("without");
    expect(namespaceOf(kc, undefined)).toBe("default");
  });

  it("strips the flag's username prefixes, else the environment's, else none", () => {
    expect(userMappingOf("oidc:, ldap:", "env:")).toEqual({ stripPrefixes: ["oidc:", "ldap:"] });
    expect(userMappingOf(undefined, "env:")).toEqual({ stripPrefixes: ["env:"] });
    expect(userMappingOf(undefined, undefined)).toEqual({ stripPrefixes: [] });
  });
});
