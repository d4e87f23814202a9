import { readFileSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { bashCompletion, completions, completionTable } from "../../../src/plugin/completion.js";
import { buildPluginProgram } from "../../../src/plugin/program.js";

// Completes the words with the generated script in a real bash, as the shell would on TAB.
function complete(words: string[]): string[] {
  const script = `${bashCompletion(buildPluginProgram())}
COMP_WORDS=(${words.map((word) => `'${word}'`).join(" ")}); COMP_CWORD=${words.length - 1}
_kubectl_keygate; printf '%s\\n' "\${COMPREPLY[@]}"`;
  return spawnSync("bash", ["-c", script], { encoding: "utf8" }).stdout.split("\n").filter(Boolean);
}

describe("shell completion", () => {
  it("knows every command and its options, and the global ones everywhere", () => {
    const table = completionTable(buildPluginProgram());
    const top = table.find((entry) => entry.name === "")?.words ?? [];
    expect(top).toEqual(expect.arrayContaining(["create-key", "keys", "delete", "recycle-bin", "completion", "--namespace", "--kubeconfig"]));
    expect(table.find((entry) => entry.name === "recycle-bin restore")?.words).toEqual(expect.arrayContaining(["--name", "--dry-run", "-n"]));
  });

  it("completes commands, subcommands and options in bash, skipping options typed before", () => {
    expect(complete(["kubectl-keygate", "cre"])).toEqual(["create-key"]);
    expect(complete(["kubectl-keygate", "-n", "team-a", "recycle-bin", "p"])).toEqual(["purge"]);
    expect(complete(["kubectl-keygate", "create-key", "--down"])).toEqual(["--download"]);
  });

  it("answers kubectl's plugin completion as cobra's __complete does: candidates, then a directive", () => {
    const program = buildPluginProgram();
    expect(completions(program, ["mfa", "a"])).toBe("add\nadd-key\n:4\n");
    expect(completions(program, ["-n", "team-a", "recycle-bin", "p"])).toBe("purge\n:4\n");
    expect(completions(program, ["nothing-like-it"])).toBe(":4\n");
    expect(completions(program, [""]).split("\n")).not.toContain("__complete");
  });

  it("runs as kubectl_complete-keygate, the executable kubectl looks for", () => {
    const run = spawnSync(process.execPath, ["--import", "tsx", "src/plugin/main.ts", "__complete", "--", "mfa", "re"], { encoding: "utf8" });
    expect(run.stdout).toBe("remove\n:4\n");
    expect(readFileSync("bin/kubectl_complete-keygate", "utf8")).toContain('process.argv.splice(2, 0, "__complete", "--")');
  });
});
