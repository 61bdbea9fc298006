import { createHash, randomInt, randomUUID } from 'node:crypto'

/**
 * The XEP-0114 handshake digest: lowercase hex SHA-1 over the UTF-8 bytes of stream id + secret.
 * The stream id is the unescaped attribute value.
 * @example
 * computeHandshake("a&b'<", 'secret') // 40 lowercase hex digits
 */
export function computeHandshake(streamId: string, secret: string): string {
  return createHash('sha1').update(`${streamId}${secret}`, 'utf8').digest('hex')
}

/**
 * Checks a handshake digest. Prosody compares case-insensitively (upper-case hex accepted);
 * ejabberd accepts lower case only. Surrounding whitespace is ignored.
 * @example
 * verifyHandshake(computeHandshake(id, secret), id, secret, { caseSensitive: true }) // true
 */
export function verifyHandshake(
  digest: string,
  streamId: string,
  secret: string,
  options: { caseSensitive: boolean },
): boolean {
  const expected = computeHandshake(streamId, secret)
  const given = digest.trim()
  return options.caseSensitive ? given === expected : given.toLowerCase() === expected
}

/**
 * Stream id like Prosody's: a random UUID.
 * @example
 * prosodyStreamId() // '8f0f6c1e-…'
 */
export function prosodyStreamId(): string {
  return randomUUID()
}

/**
 * Stream id like ejabberd's: a decimal number, e.g. `2279729287072673327`.
 * @example
 * ejabberdStreamId() // '2279729287072673327'
 */
export function ejabberdStreamId(): string {
  return `${randomInt(1, 2 ** 47)}${randomInt(0, 100_000).toString().padStart(5, '0')}`
}
