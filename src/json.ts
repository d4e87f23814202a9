/** JSON.parse for input that may be malformed: undefined instead of a throw. */
export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** The value as it reads back from JSON: fields set to undefined are gone, as from the API server. */
export function asJson<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}
