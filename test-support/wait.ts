// Test support for the repository's own tests (not published): waiting.

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** Polls `cond` every 5 ms; rejects with "timed out waiting for `what`" after `timeout` ms. */
export async function until(cond: () => boolean, what: string, timeout = 3000): Promise<void> {
  const end = Date.now() + timeout
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await sleep(5)
  }
}
