// Hooks: onJoin refuses joins, beforeMessage drops, rewrites or refuses groupchat messages.
import { StanzaError, xml } from '@satellite/core'
import type { JoinInfo, MessageInfo } from '@satellite/muc'
import { describe, expect, it } from 'vitest'
import {
  errorOf,
  groupchat,
  join,
  joinPresence,
  nextStanzas,
  ROOM,
  refused,
  settle,
  setup,
} from './helpers.js'

describe('hooks', () => {
  it('onJoin sees each new occupant once and refuses with the StanzaError it throws', async () => {
    const seen: JoinInfo[] = []
    const s = await setup({
      hooks: {
        onJoin(j) {
          seen.push(j)
          if (j.nick.toLowerCase().startsWith('bot')) throw new StanzaError('not-allowed', 'no bots in here')
        },
      },
    })
    const alice = s.client('alice@localhost/phone')
    await join(alice, ROOM, 'Alice')
    await join(s.client('alice@localhost/pc'), ROOM, 'Alice')
    const bot = s.client('bot@localhost/x')
    const err = await refused(bot, joinPresence(`${ROOM}/botty`))
    expect(errorOf(err)).toMatchObject({ condition: 'not-allowed', text: 'no bots in here' })
    expect(seen.map((j) => [j.bare, j.nick, j.creates])).toEqual([
      ['alice@localhost', 'Alice', true],
      ['bot@localhost', 'botty', false],
    ])
    expect(s.service.room('lobby')?.occupants.map((o) => o.nick)).toEqual(['Alice'])
  })

  it('beforeMessage rewrites a body, drops a message without an answer, or refuses it', async () => {
    const seen: MessageInfo[] = []
    const s = await setup({
      hooks: {
        beforeMessage(m) {
          seen.push(m)
          if (m.body.includes('spam')) return false
          if (m.body.includes('shout')) throw new StanzaError('policy-violation', 'no shouting')
          return m.body.replace(/darn/g, '****')
        },
      },
    })
    const alice = s.client('alice@localhost/phone')
    await join(alice, ROOM, 'Alice')
    const bob = s.client('bob@localhost/pc')
    await join(bob, ROOM, 'bob')
    const a0 = alice.received.length
    bob.send(groupchat('buy spam now'))
    bob.send(groupchat('darn it', { id: 'd1' }))
    const [got] = await nextStanzas(alice, 1, a0)
    expect(got?.getChildText('body')).toBe('**** it')
    expect(got?.attrs.id).toBe('d1')
    expect(await settle(alice, a0 + 1)).toEqual([])
    const err = await refused(bob, groupchat('shout'))
    expect(errorOf(err)).toMatchObject({ condition: 'policy-violation', text: 'no shouting' })
    expect(seen.map((m) => [m.nick, m.body])).toEqual([
      ['bob', 'buy spam now'],
      ['bob', 'darn it'],
      ['bob', 'shout'],
    ])
    // A subject change has no body: not given to the hook.
    bob.send(xml('message', { to: ROOM, type: 'groupchat' }, xml('subject', {}, 'x')))
    await settle(bob)
    expect(seen).toHaveLength(3)
  })

  it('a hook that throws something else: internal-server-error, reported as SAT_ERR_MUC_HOOK; a bad hooks option is SAT_ERR_CONFIG', async () => {
    const s = await setup({
      hooks: {
        beforeMessage() {
          throw new Error('bug in the bot')
        },
      },
    })
    const reported: Error[] = []
    s.xmpp.on('error', (e) => reported.push(e))
    const alice = s.client('alice@localhost/phone')
    await join(alice, ROOM, 'Alice')
    const err = await refused(alice, groupchat('hi'))
    expect(errorOf(err).condition).toBe('internal-server-error')
    expect(reported.map((e) => (e as { code?: string }).code)).toEqual(['SAT_ERR_MUC_HOOK'])
    await expect(setup({ hooks: { onJoin: 'no' as unknown as () => void } })).rejects.toThrow(
      /muc\.hooks\.onJoin: must be a function/,
    )
  })

  it('an affiliation source answers for JIDs on no list: outcasts refused, admins moderators; the lists win', async () => {
    const asked: string[] = []
    const s = await setup({
      hooks: {
        affiliation(room, bare) {
          asked.push(`${room} ${bare}`)
          if (bare === 'troll@localhost') return 'outcast'
          if (bare === 'boss@localhost') return 'admin'
          return undefined
        },
      },
    })
    const alice = s.client('alice@localhost/a')
    await join(alice, ROOM, 'Alice')
    const troll = s.client('troll@localhost/t')
    const err = await refused(troll, joinPresence(`${ROOM}/troll`))
    expect(errorOf(err).condition).toBe('forbidden')
    await join(s.client('boss@localhost/b'), ROOM, 'boss')
    expect(s.service.room('lobby')?.occupants.map((o) => [o.nick, o.affiliation, o.role])).toEqual([
      ['Alice', 'owner', 'moderator'],
      ['boss', 'admin', 'moderator'],
    ])
    expect(asked).toContain('lobby troll@localhost')
    // The owner puts troll on the member list: the list wins over the source.
    await alice.request(
      xml(
        'iq',
        { type: 'set', to: ROOM },
        xml(
          'query',
          { xmlns: 'http://jabber.org/protocol/muc#admin' },
          xml('item', { jid: 'troll@localhost', affiliation: 'member' }),
        ),
      ),
    )
    const got = await join(troll, ROOM, 'troll')
    expect(got.some((p) => p.attrs.from === `${ROOM}/troll`)).toBe(true)
  })
})
