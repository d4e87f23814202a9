import { createInterface } from "node:readline/promises";
import { PluginError } from "./exit.js";

// Questions go to stderr, so that stdout holds only what a script may capture.

/** Whether a person can answer: stdin is a terminal. */
export function canAsk(): boolean {
  return process.stdin.isTTY === true;
}

/** One line typed by the person, trimmed. */
export async function ask(question: string): Promise<string> {
  const reader = createInterface({ input: process.stdin, output: process.stderr, terminal: true });
  try {
    return (await reader.question(question)).trim();
  } finally {
    reader.close();
  }
}

/** Refuses, before anything is shown, what needs a confirmation where no one can give it. */
export function requireTerminal(what: string): void {
  if (!canAsk()) throw new PluginError(`${what} needs a confirmation: run it in a terminal, or pass --yes`);
}

/** A y/N question; no (and nothing changes) unless the person answers yes. */
export async function confirmYesNo(what: string, question: string): Promise<void> {
  requireTerminal(what);
  const answer = (await ask(`${question} [y/N]: `)).toLowerCase();
  if (answer !== "y" && answer !== "yes") throw new PluginError(`${what}: not confirmed; nothing changed`);
}

/** The consoles' typed confirmation: the person types `expected` exactly. */
export async function confirmTyped(what: string, expected: string): Promise<void> {
  requireTerminal(what);
  const answer = await ask(`Type ${expected} to confirm: `);
  if (answer !== expected) throw new PluginError(`${what}: confirmation "${answer}" does not match ${expected}; nothing changed`);
}
