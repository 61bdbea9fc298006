// The gateway's own IRC client (src/irc/): the line parser, the handlers' modes and NAMES, and
// the client against a scripted server: CAP LS 302 over several lines, keepalive, a silent
// server, a line without an end, CTCP.
import { EventEmitter } from 'node:events'
import { createServer, type Server, type Socket } from 'node:net'
import { afterTest } from '@satellite/test-support/cleanup'
import { describe, expect, it } from 'vitest'
import { IrcClient, type IrcClientOptions } from '../src/irc/client.js'
import type { ClientHandler, MessageEvent, SaslFailedEvent, UserlistEvent } from '../src/irc/events.js'
import { DEFAULT_MODES, isupport, parseModes } from '../src/irc/handlers.js'
import { parseCtcp, parseLine } from '../src/irc/line.js'
import { schedulerOptions } from '../src/scheduler.js'

describe('parseLine', () => {
  it('reads tags, source, command and parameters, the last one with spaces', () => {
    expect(
      parseLine('@time=2026-01-01T00:00:00Z;msgid=x :nick!user@host PRIVMSG #chan :hello  world'),
    ).toEqual({
      nick: 'nick',
      user: 'user',
      host: 'host',
      fromServer: false,
      command: 'PRIVMSG',
      params: ['#chan', 'hello  world'],
    })
    expect(parseLine(':irc.test 005 me NICKLEN=30 PREFIX=(ov)@+ :are supported')).toMatchObject({
      nick: 'irc.test',
      fromServer: true,
      command: '005',
      params: ['me', 'NICKLEN=30', 'PREFIX=(ov)@+', 'are supported'],
    })
    expect(parseLine('ping :x')).toMatchObject({ nick: '', fromServer: true, command: 'PING', params: ['x'] })
    expect(parseLine(':n@h JOIN #a')).toMatchObject({ nick: 'n', host: 'h', fromServer: false })
  })

  it('keeps an empty last parameter, collapses extra spaces, and has no command for an empty line', () => {
    expect(parseLine(':a!b@c   TOPIC   #x   :')?.params).toEqual(['#x', ''])
    expect(parseLine('')).toBeNull()
    expect(parseLine('@tags-only')).toBeNull()
    expect(parseLine(':source-only')).toBeNull()
  })

  it('keeps at most 15 parameters, the 15th with the rest of the line', () => {
    const l = parseLine(`X ${Array.from({ length: 20 }, (_, i) => `p${i}`).join(' ')}`)
    expect(l?.params).toHaveLength(15)
    expect(l?.params[14]).toBe('p14 p15 p16 p17 p18 p19')
  })

  it('reads CTCP with or without the closing \\x01', () => {
    expect(parseCtcp('\x01ACTION waves\x01')).toEqual({ type: 'ACTION', text: 'waves' })
    expect(parseCtcp('\x01version')).toEqual({ type: 'VERSION', text: '' })
    expect(parseCtcp('plain')).toBeNull()
  })
})

describe('modes and ISUPPORT', () => {
  it('gives member and parameter modes their parameters, by the server’s CHANMODES and PREFIX', () => {
    const { modes, nickLen } = isupport(
      ['NICKLEN=9', 'PREFIX=(qaohv)~&@%+', 'CHANMODES=beI,k,l,imnst'],
      DEFAULT_MODES,
    )
    expect(nickLen).toBe(9)
    expect(modes).toEqual({ letters: 'qaohv', symbols: '~&@%+', always: 'beIk', whenSet: 'l' })
    expect(parseModes(modes, ['+ol-v+lk-l', 'alice', '10', 'bob', 'key'])).toEqual([
      { mode: '+o', param: 'alice' },
      { mode: '+l', param: '10' },
      { mode: '-v', param: 'bob' },
      { mode: '+l', param: 'key' },
      { mode: '+k' },
      { mode: '-l' },
    ])
  })

  it('ignores malformed ISUPPORT values', () => {
    const r = isupport(['NICKLEN=-1', 'NICKLEN=x', 'PREFIX=(ov)@', 'CHANMODES=b<,k'], DEFAULT_MODES)
    expect(r).toEqual({ modes: DEFAULT_MODES })
  })
})

/** A scripted server: `onLine` answers each line the client sends. */
async function server(onLine: (line: string, send: (l: string) => void, socket: Socket) => void) {
  const lines: string[] = []
  const sockets: Socket[] = []
  const srv: Server = createServer((socket) => {
    sockets.push(socket)
    socket.on('error', () => {})
    socket.setEncoding('utf8')
    let buffer = ''
    socket.on('data', (d: string) => {
      buffer += d
      for (let i = buffer.indexOf('\r\n'); i !== -1; i = buffer.indexOf('\r\n')) {
        const line = buffer.slice(0, i)
        buffer = buffer.slice(i + 2)
        lines.push(line)
        onLine(line, (l) => socket.write(`${l}\r\n`), socket)
      }
    })
  })
  afterTest(() => new Promise<void>((resolve) => srv.close(() => resolve())))
  afterTest(() => {
    for (const s of sockets) s.destroy()
  })
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve))
  const address = srv.address()
  return { port: typeof address === 'object' && address ? address.port : 0, lines, sockets }
}

/** The handler as events under the names of the lines, for the tests to wait on. */
class Recorder extends EventEmitter implements ClientHandler {
  onRegistered(e: { nick: string }) {
    this.emit('registered', e)
  }
  onLoggedIn(e: { nick: string; account: string }) {
    this.emit('loggedin', e)
  }
  onSaslFailed(e: SaslFailedEvent) {
    this.emit('sasl failed', e)
  }
  onJoin(e: unknown) {
    this.emit('join', e)
  }
  onPart(e: unknown) {
    this.emit('part', e)
  }
  onKick(e: unknown) {
    this.emit('kick', e)
  }
  onQuit(e: unknown) {
    this.emit('quit', e)
  }
  onUserlist(e: UserlistEvent) {
    this.emit('userlist', e)
  }
  onTopic(e: unknown) {
    this.emit('topic', e)
  }
  onTopicSetBy(e: unknown) {
    this.emit('topicsetby', e)
  }
  onMode(e: unknown) {
    this.emit('mode', e)
  }
  onMessage(kind: string, e: MessageEvent) {
    this.emit(kind, e)
  }
  onNickRefused(reason: string, e: unknown) {
    this.emit(reason === 'in-use' ? 'nick in use' : 'nick invalid', e)
  }
  onNick(e: unknown) {
    this.emit('nick', e)
  }
  onIrcError(e: unknown) {
    this.emit('irc error', e)
  }
  onUnknownCommand(e: unknown) {
    this.emit('unknown command', e)
  }
  onClose(e: { dropped: number }) {
    this.emit('close', e)
  }
}

/** An IrcClient whose handler is a Recorder, with its on/once. */
class TestClient extends IrcClient {
  readonly events: Recorder
  constructor() {
    const recorder = new Recorder()
    super(recorder)
    this.events = recorder
  }
  // biome-ignore lint/suspicious/noExplicitAny: the recorder's events carry the handler's arguments
  on(event: string, fn: (e: any) => void): this {
    this.events.on(event, fn)
    return this
  }
  // biome-ignore lint/suspicious/noExplicitAny: as above
  once(event: string, fn: (e: any) => void): this {
    this.events.once(event, fn)
    return this
  }
}

function client(port: number, more: Partial<IrcClientOptions> = {}): TestClient {
  const c = new TestClient()
  c.connect({
    host: '127.0.0.1',
    port,
    tls: false,
    nick: 'me',
    username: 'u',
    gecos: 'the user',
    version: 'test 1',
    fallbackEncoding: 'latin1',
    flood: schedulerOptions({ burst: 50, interval: 10 }),
    ...more,
  })
  afterTest(() => c.destroy())
  return c
}

const closed = (c: TestClient) => new Promise<{ dropped: number }>((resolve) => c.once('close', resolve))

describe('IrcClient', () => {
  it('reads a CAP LS 302 reply over several lines, asks for multi-prefix and sasl, and authenticates', async () => {
    const s = await server((line, send) => {
      if (line === 'CAP LS 302') {
        send(':s CAP * LS * :multi-prefix away-notify')
        send(':s CAP * LS :sasl=PLAIN,EXTERNAL server-time')
      } else if (line.startsWith('CAP REQ')) send(`:s CAP * ACK :${line.slice(9)}`)
      else if (line === 'AUTHENTICATE PLAIN') send('AUTHENTICATE +')
      else if (line.startsWith('AUTHENTICATE ')) {
        send(':s 900 me me!u@h acct :You are now logged in as acct')
        send(':s 903 me :SASL authentication successful')
      } else if (line === 'CAP END') send(':s 001 me :Welcome')
    })
    const c = client(s.port, { sasl: { account: 'acct', password: 'pw' } })
    const loggedIn = new Promise((resolve) => c.once('loggedin', resolve))
    const registered = new Promise((resolve) => c.once('registered', resolve))
    expect(await loggedIn).toEqual({ nick: 'me', account: 'acct' })
    expect(await registered).toEqual({ nick: 'me' })
    expect(s.lines).toEqual([
      'CAP LS 302',
      'NICK me',
      'USER u 0 * :the user',
      'CAP REQ :multi-prefix sasl',
      'AUTHENTICATE PLAIN',
      `AUTHENTICATE ${Buffer.from('acct\0acct\0pw').toString('base64')}`,
      'CAP END',
    ])
  })

  it('says sasl is missing when the server does not offer it, and registers all the same', async () => {
    const s = await server((line, send) => {
      if (line === 'CAP LS 302') send(':s CAP * LS :multi-prefix')
      else if (line.startsWith('CAP REQ')) send(`:s CAP * NAK :${line.slice(9)}`)
      else if (line === 'CAP END') send(':s 001 me :Welcome')
    })
    const c = client(s.port, { sasl: { account: 'a', password: 'p' } })
    const failed = new Promise((resolve) => c.once('sasl failed', resolve))
    expect(await failed).toEqual({ reason: 'capability_missing' })
    await new Promise((resolve) => c.once('registered', resolve))
    expect(s.lines).not.toContain('AUTHENTICATE PLAIN')
  })

  it('answers PING, CTCP VERSION (to a nick only), emits ACTION and ignores other CTCP and CTCP replies', async () => {
    const s = await server((line, send) => {
      if (line.startsWith('USER')) {
        send(':s 001 me :Welcome')
        send('PING :token')
        send(':bob!b@h PRIVMSG me :\x01VERSION\x01')
        send(':bob!b@h PRIVMSG me :\x01PING 123\x01')
        send(':bob!b@h NOTICE me :\x01VERSION other 2\x01')
        send(':bob!b@h PRIVMSG #c :\x01ACTION waves\x01')
        send(':bob!b@h PRIVMSG #c :plain')
      }
    })
    const c = client(s.port)
    const seen: string[] = []
    c.on('privmsg', (e) => seen.push(`privmsg ${e.target} ${e.message}`))
    c.on('notice', (e) => seen.push(`notice ${e.message}`))
    c.on('action', (e) => seen.push(`action ${e.nick} ${e.target} ${e.message}`))
    await expect.poll(() => seen).toEqual(['action bob #c waves', 'privmsg #c plain'])
    await expect.poll(() => s.lines).toContain('NOTICE bob :\x01VERSION test 1\x01')
    expect(s.lines).toContain('PONG :token')
    expect(s.lines.filter((l) => l.startsWith('NOTICE'))).toHaveLength(1)
  })

  it('collects NAMES with multi-prefix into one userlist, and follows its own nick change', async () => {
    const s = await server((line, send) => {
      if (line.startsWith('USER')) {
        send(':s 001 me :Welcome')
        send(':s 005 me PREFIX=(ohv)@%+ :are supported')
        send(':s 353 me = #c :@%alice +bob me')
        send(':s 353 me = #c :carol!c@h')
        send(':s 366 me #c :End of NAMES')
        send(':me!u@h NICK :me2')
      }
    })
    const c = client(s.port)
    const list = await new Promise((resolve) => c.once('userlist', resolve))
    expect(list).toEqual({
      channel: '#c',
      users: [
        { nick: 'alice', modes: ['o', 'h'] },
        { nick: 'bob', modes: ['v'] },
        { nick: 'me', modes: [] },
        { nick: 'carol', modes: [] },
      ],
    })
    await expect.poll(() => c.nick).toBe('me2')
    expect(c.names).toBeUndefined()
  })

  it('decodes Latin-1 lines, and drops a line that never ends past 16 KiB without holding it', async () => {
    const s = await server((line, _send, socket) => {
      if (line.startsWith('USER')) {
        socket.write(':s 001 me :Welcome\r\n')
        socket.write(
          Buffer.concat([Buffer.from(':bob!b@h PRIVMSG me :caf'), Buffer.from([0xe9]), Buffer.from('\r\n')]),
        )
        socket.write(`:bob!b@h PRIVMSG me :${'x'.repeat(20_000)}`)
        setTimeout(() => socket.write('\r\n:bob!b@h PRIVMSG me :after\n'), 50)
      }
    })
    const c = client(s.port)
    const seen: string[] = []
    c.on('privmsg', (e) => seen.push(e.message))
    await expect.poll(() => seen).toEqual(['café', 'after'])
  })

  it('PINGs a quiet server, and closes when it stays silent or never registers', async () => {
    const quiet = await server((line, send) => {
      if (line.startsWith('USER')) send(':s 001 me :Welcome')
    })
    const c = client(quiet.port, { pingAfter: 100, pingTimeout: 400 })
    const done = closed(c)
    await expect.poll(() => quiet.lines).toContain('PING :127.0.0.1')
    await done
    expect(c.connected).toBe(false)

    const mute = await server(() => {})
    const t0 = performance.now()
    const unregistered = client(mute.port, { pingAfter: 50, registerTimeout: 200 })
    await closed(unregistered)
    expect(performance.now() - t0).toBeGreaterThanOrEqual(190)
    expect(unregistered.registered).toBe(false)
  })

  it('quit() sends QUIT ahead of queued lines and closes; the queued ones are reported dropped', async () => {
    const s = await server((line, send) => {
      if (line.startsWith('USER')) send(':s 001 me :Welcome')
    })
    const c = client(s.port, { flood: schedulerOptions({ burst: 3, interval: 60_000 }) }) // CAP LS, NICK, USER
    await new Promise((resolve) => c.once('registered', resolve))
    c.raw('PRIVMSG #c :one')
    c.raw('PRIVMSG #c :two')
    const done = closed(c)
    c.quit('bye\r\nnow')
    expect((await done).dropped).toBe(2)
    await expect.poll(() => s.lines).toContain('QUIT :bye  now')
    expect(s.lines.some((l) => l.startsWith('PRIVMSG'))).toBe(false)
  })
})
