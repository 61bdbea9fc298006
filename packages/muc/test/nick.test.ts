import { enforceNick, nickKey } from '@satellite/muc'
import { describe, expect, it } from 'vitest'

describe('nicks (RFC 8266 folding)', () => {
  it('enforces: spaces mapped, trimmed and collapsed, then NFKC', () => {
    expect(enforceNick('  Alice\u00a0 Liddell ', 64)).toEqual({
      ok: true,
      nick: 'Alice Liddell',
      changed: true,
    })
    expect(enforceNick('ａｌｉｃｅ', 64)).toEqual({ ok: true, nick: 'alice', changed: true })
    expect(enforceNick('Alice', 64)).toEqual({ ok: true, nick: 'Alice', changed: false })
    expect(enforceNick('e\u0301', 64)).toEqual({ ok: true, nick: 'é', changed: true })
  })

  it('refuses empty nicks, control characters and nicks over the limit (in code points)', () => {
    expect(enforceNick(' \u2003 ', 64)).toEqual({ ok: false, problem: 'a nick cannot be empty' })
    expect(enforceNick('a\u0000', 64)).toMatchObject({ ok: false })
    expect(enforceNick('a\u009b', 64)).toMatchObject({ ok: false })
    expect(enforceNick('\ud800x', 64)).toMatchObject({ ok: false })
    expect(enforceNick('😀😀😀', 3)).toMatchObject({ ok: true })
    expect(enforceNick('😀😀😀😀', 3)).toEqual({ ok: false, problem: 'a nick is at most 3 characters' })
  })

  it('compares case- and form-insensitively', () => {
    expect(nickKey('Alice')).toBe(nickKey('alice'))
    expect(nickKey('ΣΊΣΥΦΟΣ')).toBe(nickKey('Σίσυφος'))
    expect(nickKey('Straße')).not.toBe(nickKey('Strasse'))
    expect(nickKey('bob')).not.toBe(nickKey('alice'))
  })
})
