/**
 * At most `max` characters (code points) of a string that came from outside, for an error
 * text: longer values are cut and end with `…`, so that a stanza error never echoes a
 * megabyte back and stays short and stable.
 *
 * @example
 * ```ts
 * excerpt('x'.repeat(1000)) // 'xxx…' (48 x then …)
 * throw new StanzaError('bad-request', { text: `unknown field '${excerpt(name)}'` })
 * ```
 */
export function excerpt(value: string, max = 48): string {
  if (value.length <= max) return value
  // max * 2 code units hold at least max code points: a pair cut at the end is never kept
  const points = [...value.slice(0, max * 2)]
  if (points.length <= max && value.length <= max * 2) return value
  return `${points.slice(0, max).join('')}…`
}
