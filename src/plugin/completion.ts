import type { Command } from "commander";
import { UsageError } from "./exit.js";
import { withExamples, type PluginCommand } from "./command.js";

/** The hidden command kubectl_complete-keygate runs; never offered itself. */
export const COMPLETE_COMMAND = "__complete";

interface CommandWords {
  readonly name: string;
  readonly words: readonly string[];
}

function optionWords(command: Command): string[] {
  return command.options.flatMap((option) => [option.short, option.long].filter((flag): flag is string => flag !== undefined));
}

/** Every command path (`mfa add`) with the words that may follow it: subcommands and options. */
export function completionTable(program: Command): CommandWords[] {
  const globals = optionWords(program);
  const walk = (command: Command, path: string): CommandWords[] => {
    const children = command.commands.filter((child) => child.name() !== "help" && child.name() !== COMPLETE_COMMAND);
    const words = [...children.map((child) => child.name()), ...optionWords(command), ...globals, "--help"];
    const below = children.flatMap((child) => walk(child, path === "" ? child.name() : `${path} ${child.name()}`));
    return [{ name: path, words: [...new Set(words)] }, ...below];
  };
  return walk(program, "");
}

const quote = (text: string): string => `'${text.replaceAll("'", "'\\''")}'`;

function caseArms(table: readonly CommandWords[]): string {
  return table.map((entry) => `    ${quote(entry.name)}) words=${quote(entry.words.join(" "))} ;;`).join("\n");
}

// The command path is the words typed so far that name commands; options and their values are
// skipped, so `kubectl-keygate -n team-a mfa a<TAB>` completes `add`.
const PATH_LOOP = `  local path="" w
  for w in "\${COMP_WORDS[@]:1:COMP_CWORD-1}"; do
    case "$w" in -*) ;; *) case " $(_kubectl_keygate_words "$path") " in *" $w "*) path="\${path:+$path }$w" ;; esac ;; esac
  done`;

export function bashCompletion(program: Command): string {
  return `# bash completion for kubectl-keygate: source <(kubectl-keygate completion bash)
_kubectl_keygate_words() {
  local words=""
  case "$1" in
${caseArms(completionTable(program))}
  esac
  printf '%s' "$words"
}
_kubectl_keygate() {
${PATH_LOOP}
  COMPREPLY=($(compgen -W "$(_kubectl_keygate_words "$path")" -- "\${COMP_WORDS[COMP_CWORD]}"))
}
complete -F _kubectl_keygate kubectl-keygate
`;
}

export function zshCompletion(program: Command): string {
  return `#compdef kubectl-keygate
# zsh completion for kubectl-keygate: source <(kubectl-keygate completion zsh)
autoload -U +X bashcompinit && bashcompinit
${bashCompletion(program).split("\n").slice(1).join("\n")}`;
}

const SHELLS: Record<string, (program: Command) => string> = { bash: bashCompletion, zsh: zshCompletion };

// cobra's ShellCompDirectiveNoFileComp: kubectl's own completion offers no file names after these.
const NO_FILE_COMPLETION = ":4";

/**
 * What `kubectl keygate <args><TAB>` offers, in the protocol kubectl speaks with a plugin's
 * `kubectl_complete-keygate` (as cobra's __complete): one candidate per line, then a directive.
 * The last argument is the word being completed (empty after a space).
 */
export function completions(program: Command, args: readonly string[]): string {
  const table = new Map(completionTable(program).map((entry) => [entry.name, entry.words]));
  const typed = args.slice(0, -1);
  const partial = args.at(-1) ?? "";
  let path = "";
  for (const word of typed) {
    const next = path === "" ? word : `${path} ${word}`;
    if (!word.startsWith("-") && table.has(next)) path = next;
  }
  const candidates = (table.get(path) ?? []).filter((word) => word.startsWith(partial));
  return [...candidates, NO_FILE_COMPLETION].join("\n") + "\n";
}


export const completionCommand: PluginCommand = {
  register(program) {
    const command = program
      .command("completion")
      .description("print a shell completion script for kubectl-keygate (bash or zsh)")
      .argument("<shell>", "bash or zsh")
      .action((shell: string) => {
        const script = SHELLS[shell];
        if (!script) throw new UsageError(`shell must be bash or zsh, not "${shell}"`);
        process.stdout.write(script(program));
      });
    withExamples(command, [
      "# bash, for this shell",
      "source <(kubectl-keygate completion bash)",
      "# zsh, in ~/.zshrc",
      "source <(kubectl-keygate completion zsh)",
      "# kubectl keygate <TAB>: kubectl (1.26+) asks kubectl_complete-keygate, installed beside kubectl-keygate",
    ]);
    program
      .command(COMPLETE_COMMAND, { hidden: true })
      .argument("[words...]")
      .allowUnknownOption()
      .helpOption(false)
      .action((words: string[]) => {
        process.stdout.write(completions(program, words));
      });
  },
};
