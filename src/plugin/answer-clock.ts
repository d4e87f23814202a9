/** An answer handed over for judging: its verdict, still to come. */
export interface HandedOver<T> {
  verdict: Promise<T>;
}

/**
 * The verdict on a ceremony's answer, or undefined when none was handed over in time. The clock
 * stops at the handover: an answer still being judged when the time runs out is waited for, or
 * the terminal would report no answer, and remove the device, while its key is being registered.
 */
export async function verdictInTime<T>(handedOver: Promise<HandedOver<T>>, timeoutMs: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<undefined>((resolve) => (timer = setTimeout(resolve, timeoutMs, undefined)));
  try {
    const answer = await Promise.race([handedOver, timedOut]);
    return answer === undefined ? undefined : await answer.verdict;
  } finally {
    clearTimeout(timer);
  }
}
