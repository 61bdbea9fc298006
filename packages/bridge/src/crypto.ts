import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { BridgeKeyError } from './errors.js'

/** Parses a 32-byte key written as 64 hex digits or base64. */
export function parseKey(text: string, where = 'BRIDGE_KEY'): Buffer {
  const t = text.trim()
  if (/^[0-9a-fA-F]{64}$/.test(t)) return Buffer.from(t, 'hex')
  if (/^[A-Za-z0-9+/_-]+={0,2}$/.test(t)) {
    const key = Buffer.from(t, 'base64')
    if (key.length === 32) return key
  }
  throw new BridgeKeyError(`${where} must be 32 bytes, as 64 hex digits or base64 (openssl rand -base64 32)`)
}

/**
 * The credentials key from the environment: `BRIDGE_KEY` (hex or base64), or the file named by
 * `BRIDGE_KEY_FILE` (the same text, or 32 raw bytes). Throws a {@link BridgeKeyError} when neither
 * is set or the key is not 32 bytes.
 *
 * @example
 * ```ts
 * const key = keyFromEnv() // BRIDGE_KEY=$(openssl rand -base64 32)
 * ```
 */
export function keyFromEnv(env: NodeJS.ProcessEnv = process.env): Buffer {
  if (env.BRIDGE_KEY !== undefined && env.BRIDGE_KEY !== '') return parseKey(env.BRIDGE_KEY)
  const file = env.BRIDGE_KEY_FILE
  if (file !== undefined && file !== '') {
    let raw: Buffer
    try {
      raw = readFileSync(file)
    } catch (err) {
      throw new BridgeKeyError(`BRIDGE_KEY_FILE: cannot read ${file}: ${(err as Error).message}`)
    }
    if (raw.length === 32) return raw
    return parseKey(raw.toString('utf8'), `BRIDGE_KEY_FILE (${file})`)
  }
  throw new BridgeKeyError(
    'set BRIDGE_KEY (32 bytes, hex or base64) or BRIDGE_KEY_FILE to encrypt legacy credentials',
  )
}

/** AES-256-GCM: `v1:` + base64(iv ‖ tag ‖ ciphertext). `aad` binds the ciphertext to its owner. */
export function encrypt(key: Buffer, plaintext: string, aad = ''): string {
  const iv = randomBytes(12)
  const cipher = createCipheriv('aes-256-gcm', key, iv)
  cipher.setAAD(Buffer.from(aad, 'utf8'))
  const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()])
  return `v1:${Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64')}`
}

/** Reverses {@link encrypt}; a wrong key (or tampered data) throws a {@link BridgeKeyError}. */
export function decrypt(key: Buffer, sealed: string, aad = ''): string {
  if (!sealed.startsWith('v1:')) throw new BridgeKeyError('stored credentials are not in a known format')
  const raw = Buffer.from(sealed.slice(3), 'base64')
  if (raw.length < 28) throw new BridgeKeyError('stored credentials are truncated')
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, 12))
    decipher.setAAD(Buffer.from(aad, 'utf8'))
    decipher.setAuthTag(raw.subarray(12, 28))
    return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8')
  } catch {
    throw new BridgeKeyError(
      'cannot decrypt the stored credentials: wrong BRIDGE_KEY (or the data was altered)',
    )
  }
}
