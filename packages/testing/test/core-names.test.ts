// @satellite/testing and @satellite/core export no same-named symbols with different meanings
// (#15): a name both export is the same object, or one meaning vetted below (with a check of
// it), or a type proved equal at compile time (`pnpm typecheck` checks the expectTypeOf lines).
// The shared type names are read from the API reports (scripts/api-report --check keeps them
// current), the shared values from the modules themselves.
import { readFileSync } from 'node:fs'
import * as core from '@satellite/core'
import * as coreInternal from '@satellite/core/internal'
import * as testing from '@satellite/testing'
import { describe, expect, expectTypeOf, it } from 'vitest'

/** Re-exports of core's objects (none today: @satellite/testing does not depend on @satellite/core). */
const SAME_OBJECT = new Set<string>()

/**
 * Values both export as separate implementations of one meaning, each with the check of it.
 * `xml`: both are @xmpp/xml's builder over the same ltx copy (docs/testing.md: "either works on
 * both sides"); core's also refuses a name that is not an XML name (SAT_ERR_XML_NAME).
 */
const SAME_MEANING: Record<string, () => void> = {
  xml: () => {
    const build = (x: typeof testing.xml) =>
      x('message', { to: 'a@b/c', type: 'chat' }, x('body', {}, 'hi & <bye>'), x('x', { xmlns: 'urn:x' }))
    const [fromTesting, fromCore] = [build(testing.xml), build(core.xml)]
    expect(fromTesting.toString()).toBe(fromCore.toString())
    expect(fromTesting).toBeInstanceOf(core.Element)
    expect(fromCore.constructor).toBe(fromTesting.constructor)
    expect(() => core.xml('a b')).toThrow(expect.objectContaining({ code: 'SAT_ERR_XML_NAME' }))
  },
}

/** Types both export, proved equal by the expectTypeOf lines below. */
const SAME_TYPE = new Set(['Element', 'StanzaErrorType'])
expectTypeOf<testing.Element>().toEqualTypeOf<core.Element>()
expectTypeOf<testing.StanzaErrorType>().toEqualTypeOf<core.StanzaErrorType>()

const cores = { '@satellite/core': core, '@satellite/core/internal': coreInternal } as Record<
  string,
  Record<string, unknown>
>

function reportNames(file: string): Set<string> {
  const text = readFileSync(new URL(`../../${file}`, import.meta.url), 'utf8')
  const names = new Set<string>()
  for (const m of text.matchAll(
    /^export (?:declare )?(?:abstract )?(?:function|class|interface|type|const|let|enum|namespace) (\w+)/gm,
  )) {
    names.add(m[1]!)
  }
  return names
}

describe('names shared by @satellite/testing and @satellite/core', () => {
  it('every value exported by both is the same object or a vetted meaning, and that meaning holds', () => {
    const unvetted: string[] = []
    for (const [entry, mod] of Object.entries(cores)) {
      for (const [name, value] of Object.entries(testing)) {
        if (!(name in mod)) continue
        if (SAME_OBJECT.has(name) && mod[name] === value) continue
        const check = SAME_MEANING[name]
        if (check) check()
        else unvetted.push(`${name} (${entry})`)
      }
    }
    expect(unvetted).toEqual([])
  })

  it('every type exported by both (per the API reports) is vetted, and the values are not renamed away', () => {
    const testingNames = reportNames('testing/api/testing.api.md')
    const coreNames = new Set([
      ...reportNames('core/api/core.api.md'),
      ...reportNames('core/api/core-internal.api.md'),
    ])
    const shared = [...testingNames].filter((n) => coreNames.has(n)).sort()
    const values = new Set(Object.keys(testing))
    const unvetted = shared.filter(
      (n) => !SAME_TYPE.has(n) && !(values.has(n) && (SAME_OBJECT.has(n) || n in SAME_MEANING)),
    )
    expect(unvetted).toEqual([])
    // the reports are read for real: the vetted names are among the shared ones
    expect(shared).toEqual(expect.arrayContaining([...SAME_TYPE, ...Object.keys(SAME_MEANING)]))
  })

  it("testing's own helpers carry names of their own", () => {
    expect(testing).not.toHaveProperty('errorReply')
    expect(testing).not.toHaveProperty('parseJid')
    expect(testing).not.toHaveProperty('streamErrorXml')
    // serverErrorReply: Prosody's st.error_reply from options; core's errorReply takes a StanzaError
    const iq = testing.xml('iq', { type: 'get', id: 'q', from: 'alice@localhost/a', to: 'echo.localhost' })
    const fromTesting = testing.serverErrorReply(iq, { type: 'cancel', condition: 'item-not-found' })
    const fromCore = core.errorReply(iq, new core.StanzaError('item-not-found', { type: 'cancel' }))
    expect(fromTesting.attrs).toEqual(fromCore.attrs)
    expect(fromTesting.getChild('error')?.toString()).toBe(fromCore.getChild('error')?.toString())
    // tryParseJid: a plain Jid or undefined; core's parseJid returns a JID or throws
    expect(testing.tryParseJid('Alice@localhost/phone')).toEqual({
      local: 'alice',
      domain: 'localhost',
      resource: 'phone',
      bare: 'alice@localhost',
      full: 'alice@localhost/phone',
    })
    expect(testing.tryParseJid('')).toBeUndefined()
    expect(() => core.parseJid('')).toThrow()
    // serverStreamErrorXml: the server's text carries xml:lang='en'; core's (the component's) does not
    expect(testing.serverStreamErrorXml('conflict', 'x')).toContain("xml:lang='en'")
    expect(coreInternal.streamErrorXml('conflict', 'x')).not.toContain('xml:lang')
  })
})
