// address.ts and servers.ts: biboumi's addresses, their escaping, and the IRC_SERVERS allow-list.
import { isSatelliteError } from '@satellite/core'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { formatAddress, formatLocal, type IrcAddress, parseAddress, parseLocal } from '../src/address.js'
import { type ServerList, serversFromEnv } from '../src/servers.js'
import { isChannel, isNick } from '../src/validate.js'

const list = serversFromEnv({ IRC_SERVERS: 'irc.test=127.0.0.1:6667,libera=irc.libera.chat:6697/tls' })
const fixed = serversFromEnv({ IRC_SERVERS: 'irc.test=127.0.0.1:6667', IRC_FIXED_SERVER: '1' })
const test = list.servers.get('irc.test')!

function error(fn: () => unknown): { code: string; message: string; fatal: boolean } {
  try {
    fn()
  } catch (err) {
    if (isSatelliteError(err)) return { code: err.code, message: err.message, fatal: err.fatal }
    throw err
  }
  throw new Error('did not throw')
}

describe('serversFromEnv', () => {
  it('reads name=host:port[/tls] entries, IPv6 in brackets, and the fallback encoding per server', () => {
    const l = serversFromEnv({
      IRC_SERVERS: ' irc.test=127.0.0.1:6667 , libera=irc.libera.chat:6697/tls,v6=[::1]:7000',
      IRC_ENCODING_LIBERA: 'iso-8859-15',
    })
    expect([...l.servers.values()]).toEqual([
      { name: 'irc.test', host: '127.0.0.1', port: 6667, tls: false, fallbackEncoding: 'latin1' },
      { name: 'libera', host: 'irc.libera.chat', port: 6697, tls: true, fallbackEncoding: 'iso-8859-15' },
      { name: 'v6', host: '::1', port: 7000, tls: false, fallbackEncoding: 'latin1' },
    ])
    expect(l.fixed).toBeUndefined()
    expect(fixed.fixed?.name).toBe('irc.test')
  })

  it('refuses bad lists with a fatal SAT_ERR_CONFIG naming the variable and the problem', () => {
    const cases: [Record<string, string>, string][] = [
      [{}, 'IRC_SERVERS: is not set: e.g. IRC_SERVERS=libera=irc.libera.chat:6697/tls'],
      [{ IRC_SERVERS: 'irc.test' }, 'IRC_SERVERS: expected name=host:port[/tls], got "irc.test"'],
      [{ IRC_SERVERS: 'a=b:1,' }, 'IRC_SERVERS: expected name=host:port[/tls], got ""'],
      [
        { IRC_SERVERS: 'Big=h:1' },
        `IRC_SERVERS: the name "Big" must be lower-case letters, digits, '.' and '-' (at most 63)`,
      ],
      [
        { IRC_SERVERS: 'a%b=h:1' },
        `IRC_SERVERS: the name "a%b" must be lower-case letters, digits, '.' and '-' (at most 63)`,
      ],
      [{ IRC_SERVERS: 'a=h' }, 'IRC_SERVERS: a: expected host:port, got "a=h"'],
      [{ IRC_SERVERS: 'a=h_x:1' }, 'IRC_SERVERS: a: "h_x" is not a host name or address'],
      [{ IRC_SERVERS: 'a=h:0' }, 'IRC_SERVERS: a: the port must be 1-65535, got "0"'],
      [{ IRC_SERVERS: 'a=h:65536' }, 'IRC_SERVERS: a: the port must be 1-65535, got "65536"'],
      [{ IRC_SERVERS: 'a=h:66/ssl' }, 'IRC_SERVERS: a: the port must be 1-65535, got "66/ssl"'],
      [{ IRC_SERVERS: 'a=h:1,a=g:2' }, 'IRC_SERVERS: a is listed twice'],
      [{ IRC_SERVERS: 'a=h:1', IRC_ENCODING_A: 'ebcdic' }, 'IRC_ENCODING_A: unknown encoding "ebcdic"'],
      [
        { IRC_SERVERS: 'a=h:1,b=h:2', IRC_FIXED_SERVER: '1' },
        'IRC_FIXED_SERVER: needs exactly one server in IRC_SERVERS, got 2',
      ],
      [{ IRC_SERVERS: 'a=h:1', IRC_FIXED_SERVER: 'yes' }, 'IRC_FIXED_SERVER: expected 1 or 0, got "yes"'],
    ]
    for (const [env, message] of cases)
      expect(error(() => serversFromEnv(env))).toEqual({ code: 'SAT_ERR_CONFIG', message, fatal: true })
  })
})

describe('parseLocal (biboumi addresses)', () => {
  it('reads #chan%server, nick%server and server', () => {
    expect(parseLocal('#chan%irc.test', list)).toEqual({ kind: 'channel', channel: '#chan', server: test })
    expect(parseLocal('alice%irc.test', list)).toEqual({ kind: 'user', nick: 'alice', server: test })
    expect(parseLocal('irc.test', list)).toEqual({ kind: 'server', server: test })
    expect(parseLocal('#chan%LIBERA', list)).toMatchObject({ kind: 'channel', server: { name: 'libera' } })
  })

  it('leaves the server out with IRC_FIXED_SERVER: #chan, nick, and the gateway itself', () => {
    const s = fixed.fixed!
    expect(parseLocal('#chan', fixed)).toEqual({ kind: 'channel', channel: '#chan', server: s })
    expect(parseLocal('alice', fixed)).toEqual({ kind: 'user', nick: 'alice', server: s })
    expect(parseLocal('', fixed)).toEqual({ kind: 'server', server: s })
    expect(parseLocal('#chan%irc.test', fixed)).toEqual({ kind: 'channel', channel: '#chan', server: s })
  })

  it('decodes XEP-0106 escapes in the channel or nick', () => {
    expect(parseLocal('\\26local%irc.test', list)).toEqual({
      kind: 'channel',
      channel: '&local',
      server: test,
    })
    expect(parseLocal('#it\\27s%irc.test', list)).toEqual({ kind: 'channel', channel: "#it's", server: test })
  })

  it('refuses servers not in the list (SAT_ERR_IRC_SERVER) and malformed addresses (SAT_ERR_IRC_ADDRESS)', () => {
    expect(error(() => parseLocal('#chan%evil.example', list))).toEqual({
      code: 'SAT_ERR_IRC_SERVER',
      message: '"evil.example" is not an IRC server of this gateway',
      fatal: false,
    })
    expect(error(() => parseLocal('evil.example', list)).code).toBe('SAT_ERR_IRC_SERVER')
    for (const local of [
      '',
      '%irc.test',
      '#chan%',
      'a%b%',
      '#a\\20b%irc.test',
      '1abc%irc.test',
      'a\\40b%irc.test',
      '#chan%irc.test%irc.test',
    ]) {
      expect(error(() => parseLocal(local, list)).code, local).toMatch(/^SAT_ERR_IRC_(ADDRESS|SERVER)$/)
    }
    expect(error(() => parseLocal('', list)).message).toBe(
      '"": names no IRC server (use server@gateway, #chan%server@gateway or nick%server@gateway)',
    )
    expect(error(() => parseLocal('#a\\20b%irc.test', list))).toEqual({
      code: 'SAT_ERR_IRC_ADDRESS',
      message: '"#a\\\\20b%irc.test": "#a b" is neither a channel (#name) nor a nick',
      fatal: false,
    })
  })
})

describe('parseAddress and formatAddress', () => {
  it('reads full addresses on the gateway only, ignoring the resource', () => {
    expect(parseAddress('#chan%irc.test@irc.localhost/bob', 'irc.localhost', list)).toEqual({
      kind: 'channel',
      channel: '#chan',
      server: test,
    })
    expect(error(() => parseAddress('#chan%irc.test@other.localhost', 'irc.localhost', list))).toEqual({
      code: 'SAT_ERR_IRC_ADDRESS',
      message: '"#chan%irc.test@other.localhost" is not an address of irc.localhost',
      fatal: false,
    })
  })

  it('writes addresses as biboumi does, escaping what a JID local part forbids', () => {
    expect(formatAddress({ kind: 'channel', channel: '#chan', server: test }, 'gw', list)).toBe(
      '#chan%irc.test@gw',
    )
    expect(formatAddress({ kind: 'user', nick: 'alice', server: test }, 'gw', list)).toBe('alice%irc.test@gw')
    expect(formatAddress({ kind: 'server', server: test }, 'gw', list)).toBe('irc.test@gw')
    expect(formatAddress({ kind: 'channel', channel: "&it's", server: test }, 'gw', list)).toBe(
      '\\26it\\27s%irc.test@gw',
    )
    const s = fixed.fixed!
    expect(formatAddress({ kind: 'channel', channel: '#chan', server: s }, 'gw', fixed)).toBe('#chan@gw')
    expect(formatAddress({ kind: 'server', server: s }, 'gw', fixed)).toBe('gw')
  })

  it('round-trips every valid channel and nick, on a listed and on a fixed server', () => {
    const chars = fc.constantFrom(...'abcXYZ019[]\\`_^{|}-&\'"<>:/@ éß中😀.#'.split(''))
    const name = fc.string({ unit: chars, minLength: 1, maxLength: 20 })
    const check = (l: ServerList, address: IrcAddress): void => {
      const local = formatLocal(address, l)
      expect(local).not.toMatch(/[\s"&'/:<>@]/)
      expect(parseLocal(local, l)).toEqual(address)
    }
    fc.assert(
      fc.property(name, (n) => {
        for (const l of [list, fixed]) {
          const server = [...l.servers.values()][0]!
          const channel = `#${n}`
          if (isChannel(channel)) check(l, { kind: 'channel', channel, server })
          if (isNick(n)) check(l, { kind: 'user', nick: n, server })
        }
      }),
      { numRuns: 500 },
    )
  })
})
