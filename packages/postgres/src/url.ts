// PostgreSQL URLs: checked, and shown without their password.

/**
 * `url` with its password (if any) replaced by `***`, for logs and messages. A string that is
 * not a URL comes back as `'(not a URL)'`, since it might be a password itself.
 *
 * @example
 * ```ts
 * redactUrl('postgres://app:s3cret@db.example:5432/chat') // 'postgres://app:***@db.example:5432/chat'
 * ```
 */
export function redactUrl(url: string): string {
  let u: URL
  try {
    u = new URL(url)
  } catch {
    return '(not a URL)'
  }
  if (u.password !== '') u.password = '***'
  return u.toString()
}

/** The password of `url` in every form it may appear in ('' when none). @internal */
export function secretsOf(url: string): string[] {
  try {
    const raw = new URL(url).password
    if (raw === '') return []
    const decoded = decodeURIComponent(raw)
    return [...new Set([raw, decoded])]
  } catch {
    return url === '' ? [] : [url]
  }
}

/** `text` with each of `secrets` replaced by `***`. @internal */
export function scrub(text: string, secrets: readonly string[]): string {
  let out = text
  for (const s of secrets) if (s !== '') out = out.split(s).join('***')
  return out
}

/**
 * True when `url` names a PostgreSQL database (`postgres://` or `postgresql://`): how a
 * service tells a `<EXAMPLE>_DB` setting holding a URL from one holding a SQLite path.
 *
 * @example
 * ```ts
 * const store = isPostgresUrl(setting) ? await PostgresMucStore.open(setting) : new SqliteMucStore({ path: setting })
 * ```
 */
export function isPostgresUrl(url: string): boolean {
  return /^postgres(ql)?:\/\//i.test(url)
}
