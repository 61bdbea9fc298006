// The blaster's wire helpers: the addresses it serves, the constants and the string scanning of the stanzas
// it reads (no XML parser: `indexOf` and `slice` on the received text), and the small numeric helpers.
// Everything here is a plain module-level function: the per-stanza paths call them directly.

export const DOMAIN = 'echo.localhost'
/** Where iq requests of the iq scenario are addressed; the blaster answers any `<iq type='get'>`. */
export const IQ_TARGET = 'blaster.localhost'

export const MSG_END = '</message>'
export const LARGE_FILLER = 'abcdefghijklmnopqrstuvwxyz0123456789'.repeat(2000)

/** Value of attribute `name` inside the start tag s[start, end), either quote style, or undefined. */
export function attr(s: string, start: number, end: number, key: string): string | undefined {
  // key is ' name=' (leading space included, precomputed by callers)
  const i = s.indexOf(key, start)
  if (i < 0 || i >= end) return undefined
  const q = i + key.length
  const quote = s.charCodeAt(q) === 39 ? "'" : '"'
  const j = s.indexOf(quote, q + 1)
  if (j < 0 || j > end) return undefined
  return s.slice(q + 1, j)
}

export const K_ID = ' id='
export const K_FROM = ' from='
export const K_TO = ' to='
export const K_TYPE = ' type='

export function quantile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return 0
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))
  return sorted[i] ?? 0
}

/** The monotonic clock (`process.hrtime`), µs: the clock of V8's `--cpu-prof` sample timestamps. */
export const monoUs = (): number => Number(process.hrtime.bigint() / 1000n)

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms))
