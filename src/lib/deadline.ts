/**
 * A promise that rejects with `message` if `work` has not settled within `ms`. Bindings can hang
 * (a stuck D1 call, an unreachable Durable Object); a deadline turns a hang into an error the
 * caller already knows how to answer.
 */
export async function withDeadline<T>(work: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: number | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  try {
    return await Promise.race([work, deadline]);
  } finally {
    if (timer !== undefined) clearTimeout(timer);
  }
}
