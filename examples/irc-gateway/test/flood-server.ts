// A scripted IRC server for the flood test: registers any client, echoes nothing, and applies
// the flood rule of ircd-hybrid/solanum-like servers: a client may send `burst` lines at once,
// then one line per `interval` ms; when more than `backlog` lines wait beyond that allowance it
// is killed with "ERROR :Closing Link: (Excess Flood)".
import { createServer, type Server, type Socket } from 'node:net'

export interface FloodRule {
  burst: number
  interval: number
  backlog: number
}

export interface FloodServer {
  port: number
  /** PRIVMSG texts received, per nick. */
  received: Map<string, string[]>
  killed: string[]
  close(): Promise<void>
}

export async function startFloodServer(rule: FloodRule): Promise<FloodServer> {
  const received = new Map<string, string[]>()
  const killed: string[] = []
  const sockets = new Set<Socket>()
  const server: Server = createServer((socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
    socket.on('error', () => {})
    let nick = '*'
    let buffer = ''
    let tokens = rule.burst
    let last = performance.now()
    socket.setEncoding('utf8')
    socket.on('data', (data: string) => {
      buffer += data
      let i = buffer.indexOf('\n')
      while (i !== -1) {
        const line = buffer.slice(0, i).replace(/\r$/, '')
        buffer = buffer.slice(i + 1)
        i = buffer.indexOf('\n')
        const now = performance.now()
        tokens = Math.min(rule.burst, tokens + (now - last) / rule.interval)
        last = now
        tokens -= 1
        if (tokens < -rule.backlog) {
          killed.push(nick)
          socket.end(`ERROR :Closing Link: ${nick} (Excess Flood)\r\n`)
          return
        }
        const [command, ...rest] = line.split(' ')
        if (command === 'NICK') {
          nick = rest[0] ?? '*'
        } else if (command === 'USER') {
          socket.write(
            `:flood.test 001 ${nick} :Welcome\r\n:flood.test 005 ${nick} NICKLEN=30 :are supported\r\n`,
          )
          socket.write(`:flood.test 376 ${nick} :End of MOTD\r\n`)
        } else if (command === 'PING') {
          socket.write(`:flood.test PONG flood.test ${rest.join(' ')}\r\n`)
        } else if (command === 'PRIVMSG') {
          const text = line.slice(line.indexOf(' :') + 2)
          const list = received.get(nick) ?? []
          list.push(text)
          received.set(nick, list)
        }
      }
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  const port = typeof address === 'object' && address ? address.port : 0
  return {
    port,
    received,
    killed,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy()
        server.close(() => resolve())
      }),
  }
}
