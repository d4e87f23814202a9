/** One sample line of the Prometheus text format. */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

/** The samples of an exposition, in order; HELP and TYPE lines are left out. */
export function samples(text: string): Sample[] {
  return text.split("\n").flatMap((line) => {
    const match = SAMPLE.exec(line);
    if (match === null || line.startsWith("#")) return [];
    const labels = Object.fromEntries([...(match[2] ?? "").matchAll(LABEL)].map((label): [string, string] => [label[1] ?? "", label[2] ?? ""]));
    return [{ name: match[1] ?? "", labels, value: Number(match[3]) }];
  });
}

/** The value of the one sample with this name and (at least) these labels; throws unless exactly one matches. */
export function value(text: string, name: string, labels: Record<string, string> = {}): number {
  const found = samples(text).filter((sample) => sample.name === name && Object.entries(labels).every(([key, wanted]) => sample.labels[key] === wanted));
  if (found.length !== 1) throw new Error(`${found.length} samples of ${name}${JSON.stringify(labels)}`);
  return (found[0] as Sample).value;
}

/** `# TYPE` lines as name → type. */
export function types(text: string): Record<string, string> {
  return Object.fromEntries([...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((match): [string, string] => [match[1] ?? "", match[2] ?? ""]));
}

/** `# HELP` lines as name → help text. */
export function helps(text: string): Record<string, string> {
  return Object.fromEntries([...text.matchAll(/^# HELP (\S+) (.*)$/gm)].map((match): [string, string] => [match[1] ?? "", match[2] ?? ""]));
}
