import type { Capabilities, LegacyContact, NetworkAdapter, SessionEvents } from '@satellite/bridge'
import { StanzaError } from '@satellite/core'

export interface FakeSession {
  user: string
  events: SessionEvents
  open: boolean
}

/** An in-process legacy network: accounts, contacts per account, and a log of what the bridge did. */
export class FakeNetwork {
  readonly accounts = new Map<string, string>([['alice', 'pw']])
  contacts: LegacyContact[] = [
    { id: 'zed', name: 'Zed', online: true },
    { id: 'Ann Lee@work', name: 'Ann', online: true },
    { id: 'olga', online: false },
  ]
  readonly sessions: FakeSession[] = []
  readonly log: string[] = []
  down = false
  #seq = 0

  get live(): FakeSession | undefined {
    return this.sessions.filter((s) => s.open).at(-1)
  }

  adapter(capabilities: Capabilities<FakeSession> = {}): NetworkAdapter<FakeSession> {
    return {
      network: { type: 'fake', name: 'FakeNet' },
      login: async (credentials, events) => {
        const user = String(credentials.username)
        this.log.push(`login ${user}`)
        if (this.down) throw new Error('network unreachable')
        if (this.accounts.get(user) !== credentials.password) {
          throw new StanzaError('not-authorized', { text: 'bad password' })
        }
        const s = { user, events, open: true }
        this.sessions.push(s)
        return s
      },
      logout: async (s) => {
        this.log.push(`logout ${s.user}`)
        s.open = false
      },
      sendText: async (s, to, text) => {
        const c = this.contacts.find((x) => x.id === to)
        if (c === undefined) throw new StanzaError('item-not-found', { text: `no contact ${to}` })
        if (c.online !== true) throw new StanzaError('recipient-unavailable', { text: `${to} is offline` })
        const id = `L${++this.#seq}`
        this.log.push(`send ${s.user}→${to} ${id}: ${text}`)
        return id
      },
      listContacts: async () => this.contacts.map((c) => ({ ...c })),
      capabilities,
    }
  }
}
