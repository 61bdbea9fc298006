// new StanzaError(condition, 'text') and new StanzaError(condition, { text, type, … }) are both
// accepted (typed overloads), with the same condition and type normalisation.

import { component, errorElement, StanzaError, xml } from '@satellite/core'
import { createServer, StanzaErrorResponse } from '@satellite/testing'
import { afterEach, describe, expect, it } from 'vitest'

const serialize = (el: { toString(): string }) => el.toString()

describe('StanzaError constructor', () => {
  it('takes the text as a string', () => {
    const e = new StanzaError('not-allowed', 'Search is for local users only')
    expect([e.condition, e.type, e.text, e.application]).toEqual([
      'not-allowed',
      'cancel',
      'Search is for local users only',
      undefined,
    ])
    expect(e.message).toBe('not-allowed: Search is for local users only')
    expect(serialize(errorElement(e))).toBe(
      '<error type="cancel"><not-allowed xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/>' +
        '<text xmlns="urn:ietf:params:xml:ns:xmpp-stanzas">Search is for local users only</text></error>',
    )
  })

  it('takes options, as before', () => {
    const application = xml('closed', { xmlns: 'urn:example:errors' })
    const e = new StanzaError('resource-constraint', { type: 'modify', text: 'later', application })
    expect([e.condition, e.type, e.text, e.application]).toEqual([
      'resource-constraint',
      'modify',
      'later',
      application,
    ])
    expect(new StanzaError('item-not-found', {}).text).toBeUndefined()
    expect(new StanzaError('item-not-found').text).toBeUndefined()
  })

  it('normalises the condition in both forms; an empty text is no text in the message', () => {
    const a = new StanzaError('a><b', 'from a legacy ERR line')
    expect([a.condition, a.type, a.text]).toEqual(['undefined-condition', 'cancel', 'from a legacy ERR line'])
    expect(a.message).toContain('"a><b"')
    expect(new StanzaError('forbidden', '').message).toBe('forbidden')
  })

  it('rejects other argument types at compile time', () => {
    // @ts-expect-error a number is neither a text nor options
    expect(new StanzaError('bad-request', 42).text).toBeUndefined()
    // @ts-expect-error a misspelt option
    void new StanzaError('bad-request', { txt: 'x' })
    // @ts-expect-error not both a text and options
    void new StanzaError('bad-request', 'x', { type: 'wait' })
  })
})

describe('a StanzaError with a string text thrown by a handler', () => {
  let stop: () => Promise<void> = async () => {}
  afterEach(() => stop())

  it('is the error reply, text included', async () => {
    const server = await createServer({ components: { 'bot.localhost': 'secret' } })
    const xmpp = component({ service: server.url, domain: 'bot.localhost', secret: 'secret' })
    stop = async () => {
      await xmpp.stop()
      await server.close()
    }
    xmpp.iqGet({ xmlns: 'jabber:iq:version' }, () => {
      throw new StanzaError('not-allowed', 'not for you')
    })
    await xmpp.start()
    const error = await server
      .client('alice@localhost/phone')
      .request(xml('iq', { type: 'get', to: 'bot.localhost' }, xml('query', { xmlns: 'jabber:iq:version' })))
      .catch((e: unknown) => e)
    expect(error).toBeInstanceOf(StanzaErrorResponse)
    expect([(error as StanzaErrorResponse).condition, (error as StanzaErrorResponse).text]).toEqual([
      'not-allowed',
      'not for you',
    ])
  })
})
