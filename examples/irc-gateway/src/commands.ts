// The server address `server@gateway` (the gateway itself with IRC_FIXED_SERVER=1): XEP-0050 ad-hoc
// commands through @satellite/adhoc, one registry per server of the allow-list, each acting only
// on the requester's own settings and connection (the requester's bare JID):
//   configure   nick, password, SASL on/off for this server (a data form, checked by
//               @satellite/forms); used from the next connection
//   disconnect  QUITs the requester's connection to this server (their rooms there close)
// and raw commands: a message whose body is `/quote LINE` sends LINE to the server as it is.
import { type CommandRegistry, commands, type Session, stage } from '@satellite/adhoc'
import { type Component, StanzaError } from '@satellite/core'
import { defineForm } from '@satellite/forms'
import { formatLocal } from './address.js'
import { IrcGatewayError, IrcGatewayErrorCodes } from './errors.js'
import type { IrcServer, ServerList } from './servers.js'
import type { SettingsStore, UserSettings } from './settings.js'
import { utf8Length } from './text.js'
import { isNick, MAX_NICK } from './validate.js'

/** The longest password the Configure form takes (characters). */
export const MAX_PASSWORD = 300

export interface ServerCommandsHost {
  servers: ServerList
  settings: SettingsStore
  /** Closes `user`'s connection to `server`; false when there was none. */
  disconnect(user: string, server: IrcServer): boolean
  /** Says something to `user` from the server's address (errors reading their settings). */
  tell(user: string, server: IrcServer, text: string): void
}

export interface ServerCommands {
  close(): void
}

const configureForm = (state: ConfigureState, server: IrcServer) =>
  defineForm({
    title: `Configure ${server.name}`,
    instructions:
      'Used from the next connection to this server (run Disconnect to reconnect now). ' +
      `SASL PLAIN is used over TLS when the server offers it${server.tls ? '' : ' (this server is not TLS)'}; ` +
      'otherwise the password is sent to NickServ (IDENTIFY).',
    fields: [
      {
        type: 'text-single',
        var: 'nick',
        label: 'Nick (empty: the one you join with, else your JID’s local part)',
        maxLength: MAX_NICK,
        ...(state.current?.nick === undefined ? {} : { value: state.current.nick }),
      },
      {
        type: 'text-private',
        var: 'password',
        label: state.hasPassword === true ? 'Password (empty: keep the stored one)' : 'Password',
        maxLength: MAX_PASSWORD,
      },
      { type: 'boolean', var: 'forget', label: 'Forget the stored password', value: false },
      { type: 'boolean', var: 'sasl', label: 'Use SASL', value: state.current?.sasl ?? true },
    ],
  })

type ConfigureState = { current?: Omit<UserSettings, 'password'>; hasPassword?: boolean }

/** Installs the commands of every server's address; `close()` removes them. */
export function serverCommands(xmpp: Component, host: ServerCommandsHost): ServerCommands {
  const registries: CommandRegistry[] = []
  const read = (user: string, server: IrcServer): UserSettings | undefined => {
    try {
      return host.settings.get(user, server.name)
    } catch (err) {
      if (!(err instanceof IrcGatewayError)) throw err
      host.tell(user, server, err.message)
      return undefined
    }
  }
  for (const server of host.servers.servers.values()) {
    const registry = commands(xmpp, { to: formatLocal({ kind: 'server', server }, host.servers) })
    registries.push(registry)
    registry.register<ConfigureState>({
      node: 'configure',
      name: `Configure ${server.name}`,
      // The form shows the nick and SASL choice; the stored password stays in the store (read
      // again on submit), never in the session.
      init: (s) => {
        const current = read(s.requester.bare, server)
        if (current === undefined) return {}
        const { password, ...shown } = current
        return { current: shown, hasPassword: password !== undefined }
      },
      stages: [
        stage(
          (s: Session<ConfigureState>) => configureForm(s.state, server),
          (values, s) => {
            const nick = values.nick?.trim() ?? ''
            if (nick !== '' && !isNick(nick)) {
              throw new StanzaError('not-acceptable', `${JSON.stringify(nick)} is not a nick IRC accepts`)
            }
            const password = values.password ?? ''
            if (/[\r\n\0]/.test(password)) {
              throw new StanzaError('not-acceptable', 'a password cannot hold CR, LF or NUL')
            }
            const next: UserSettings = { sasl: values.sasl ?? true }
            if (nick !== '') next.nick = nick
            const stored = () => read(s.requester.bare, server)?.password
            const kept = values.forget === true ? undefined : password !== '' ? password : stored()
            if (kept !== undefined) next.password = kept
            try {
              host.settings.put(s.requester.bare, server.name, next)
            } catch (err) {
              if (err instanceof IrcGatewayError && err.code === IrcGatewayErrorCodes.LIMIT) {
                throw new StanzaError('policy-violation', err.message)
              }
              throw err
            }
          },
        ),
      ],
      complete: () => ({
        notes: [`Saved: used from your next connection to ${server.name}`],
      }),
    })
    registry.register({
      node: 'disconnect',
      name: `Disconnect from ${server.name}`,
      complete: (s) => ({
        notes: [
          host.disconnect(s.requester.bare, server)
            ? `Disconnected from ${server.name}`
            : `You were not connected to ${server.name}`,
        ],
      }),
    })
  }
  return {
    close() {
      for (const r of registries) r.close()
    },
  }
}

/**
 * Reads a raw command: the body of a message to the server's address, `/quote LINE`. Returns
 * LINE, or undefined when the body is not a raw command. Throws SAT_ERR_IRC_RAW when LINE holds
 * CR, LF or NUL, is empty, or is longer than `maxBytes` (UTF-8).
 */
export function rawCommand(body: string, maxBytes: number): string | undefined {
  if (!body.startsWith('/quote ') && body !== '/quote') return undefined
  const line = body.slice(7).replace(/^ +/, '')
  if (line === '')
    throw new IrcGatewayError(IrcGatewayErrorCodes.RAW, '/quote needs an IRC line: /quote WHOIS nick')
  if (/[\r\n\0]/.test(line)) {
    throw new IrcGatewayError(
      IrcGatewayErrorCodes.RAW,
      'a raw line cannot hold CR, LF or NUL (one line per message)',
    )
  }
  const n = utf8Length(line)
  if (n > maxBytes) {
    throw new IrcGatewayError(IrcGatewayErrorCodes.RAW, `a raw line is at most ${maxBytes} bytes, got ${n}`)
  }
  return line
}
