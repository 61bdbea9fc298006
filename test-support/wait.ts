// Test support for the repository's own tests (not published): waiting. To wait for a
// condition, use vitest's expect.poll(() => cond, { timeout, interval }) or vi.waitFor().

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
