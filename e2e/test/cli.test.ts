// `satellite check` against the real servers: what a user runs first when a component will not connect.
import { readFileSync } from 'node:fs'
import { checkConnection } from '@satellite/cli'
import { describe, expect, it } from 'vitest'
import { info, KINDS } from './helpers.js'

describe.each(KINDS)('%s: satellite check', (kind) => {
  const s = () => info(kind)
  const plain = () => `xmpp://127.0.0.1:${s().XMPP_COMPONENT_PORT}`

  it('passes every step with the right settings, plain and direct TLS', async () => {
    const r = await checkConnection({
      service: plain(),
      domain: s().XMPP_ECHO_DOMAIN as string,
      secret: s().XMPP_ECHO_SECRET as string,
    })
    expect(r.steps.map((x) => `${x.name}:${x.ok}`)).toEqual([
      'TCP connect:true',
      'stream header:true',
      'handshake:true',
      'round trip:true',
    ])
    const t = await checkConnection({
      service: `xmpps://localhost:${s().XMPP_COMPONENT_TLS_PORT}`,
      domain: s().XMPP_ECHO_DOMAIN as string,
      secret: s().XMPP_ECHO_SECRET as string,
      ca: readFileSync(s().XMPP_CA_FILE as string),
    })
    expect(t.ok).toBe(true)
  })

  it('explains a wrong secret and an unknown domain', async () => {
    const wrong = await checkConnection({
      service: plain(),
      domain: s().XMPP_ECHO_DOMAIN as string,
      secret: 'nope',
    })
    expect(wrong.steps.at(-1)).toMatchObject({ name: 'handshake', ok: false })
    expect(wrong.steps.at(-1)?.fix).toMatch(/component_secret/)
    const unknown = await checkConnection({ service: plain(), domain: 'ghost.localhost', secret: 'x' })
    expect(unknown.ok).toBe(false)
    expect(unknown.steps.at(-1)?.detail).toMatch(kind === 'prosody' ? /host-unknown/ : /not-authorized/)
  })

  it('spots a TLS mismatch and a client port', async () => {
    const tlsOnPlain = await checkConnection({
      service: `xmpps://localhost:${s().XMPP_COMPONENT_PORT}`,
      domain: s().XMPP_ECHO_DOMAIN as string,
      secret: 'x',
      timeout: 3000,
    })
    expect(tlsOnPlain.steps[0]?.ok).toBe(false)
    const plainOnTls = await checkConnection({
      service: `xmpp://127.0.0.1:${s().XMPP_COMPONENT_TLS_PORT}`,
      domain: s().XMPP_ECHO_DOMAIN as string,
      secret: 'x',
      timeout: 2000,
    })
    expect(plainOnTls.ok).toBe(false)
    const c2s = await checkConnection({
      service: `xmpp://127.0.0.1:${s().XMPP_C2S_PORT}`,
      domain: s().XMPP_ECHO_DOMAIN as string,
      secret: 'x',
      timeout: 3000,
    })
    expect(c2s.ok).toBe(false)
    expect(c2s.steps.map((x) => `${x.detail} ${x.fix ?? ''}`).join(' ')).toMatch(/client|component port/)
  })
})
