// The muc e2e tests' shared pieces: bob as slixmpp (Debian's python3-slixmpp, driven line by line
// through e2e/clients/slix_muc.py) and helpers reading MUC stanzas.
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { afterTest } from '@satellite/test-support/cleanup'
import { xml as clientXml } from '@xmpp/client'
import { info, type Kind } from './helpers.js'

const NS_MUC_USER = 'http://jabber.org/protocol/muc#user'
const NS_STANZAS = 'urn:ietf:params:xml:ns:xmpp-stanzas'

export type El = ReturnType<typeof clientXml>
export type Tree = { name: string; attrs: Record<string, string>; children: Array<Tree | string> }

export const build = (t: Tree): El =>
  clientXml(t.name, t.attrs, ...t.children.map((c) => (typeof c === 'string' ? c : build(c))))

export const codes = (p: El): number[] =>
  ((p.getChild('x', NS_MUC_USER)?.getChildren('status') ?? []) as El[])
    .map((c) => Number(c.attrs.code))
    .sort()
export const item = (p: El): Record<string, string> =>
  p.getChild('x', NS_MUC_USER)?.getChild('item')?.attrs ?? {}
export const condition = (el: El): string | undefined =>
  (el.getChild('error')?.children as El[] | undefined)?.find(
    (c) => typeof c !== 'string' && c.attrs.xmlns === NS_STANZAS && c.name !== 'text',
  )?.name

const slixScript = fileURLToPath(new URL('../clients/slix_muc.py', import.meta.url))

/** bob as slixmpp: every message and presence it receives, and commands to its xep_0045 plugin. */
export interface Slix {
  jid: string
  received: El[]
  expect(pred: (el: El) => boolean, timeout?: number): Promise<El>
  call(op: string, args: Record<string, unknown>): Promise<Record<string, unknown>>
  /** Kills the process (SIGKILL): the socket closes without a stream end or an unavailable presence. */
  kill(): void
  process: ChildProcessWithoutNullStreams
}

export async function slixClient(kind: Kind, user = 'bob'): Promise<Slix> {
  const s = info(kind)
  const p = spawn('/usr/bin/python3', [
    slixScript,
    `${user}@${s.XMPP_DOMAIN}/slix`,
    s.XMPP_PASSWORD as string,
    s.XMPP_HOST as string,
    s.XMPP_C2S_PORT as string,
  ])
  afterTest(() => {
    if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL')
  })
  const received: El[] = []
  const waiters: Array<{ pred: (el: El) => boolean; resolve: (el: El) => void }> = []
  const replies = new Map<number, (r: Record<string, unknown>) => void>()
  let ready: (jid: string) => void = () => {}
  let failed: (err: Error) => void = () => {}
  const started = new Promise<string>((resolve, reject) => {
    ready = resolve
    failed = reject
  })
  let err = ''
  p.stderr.on('data', (d) => {
    err += d
    if (err.length > 20_000) err = err.slice(-10_000)
  })
  p.on('close', (code) => failed(new Error(`slixmpp exited (${code}): ${err}`)))
  let buf = ''
  p.stdout.on('data', (d) => {
    buf += d
    for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
      const line = buf.slice(0, nl)
      buf = buf.slice(nl + 1)
      const msg = JSON.parse(line) as Record<string, unknown>
      if (msg.ev === 'ready') ready(String(msg.jid))
      else if (msg.ev === 'failed_auth') failed(new Error('slixmpp: auth failed'))
      else if (msg.ev === 'stanza') {
        const el = build(msg.el as Tree)
        const i = waiters.findIndex((w) => w.pred(el))
        if (i >= 0) waiters.splice(i, 1)[0]?.resolve(el)
        else received.push(el)
      } else if (typeof msg.re === 'number') replies.get(msg.re)?.(msg)
    }
  })
  const jid = await started
  let next = 0
  return {
    jid,
    received,
    process: p,
    expect(pred, timeout = 5000) {
      const hit = received.findIndex(pred)
      if (hit >= 0) return Promise.resolve(received.splice(hit, 1)[0] as El)
      return new Promise((resolve, reject) => {
        const w = { pred, resolve }
        waiters.push(w)
        setTimeout(() => {
          const i = waiters.indexOf(w)
          if (i < 0) return
          waiters.splice(i, 1)
          reject(
            new Error(
              `slixmpp: no matching stanza within ${timeout} ms; got: ${received.map(String).join('\n')}`,
            ),
          )
        }, timeout)
      })
    },
    call(op, args) {
      const id = next++
      return new Promise((resolve, reject) => {
        const t = setTimeout(
          () => reject(new Error(`slixmpp: no answer to ${op} within 10 s: ${err}`)),
          10_000,
        )
        replies.set(id, (r) => {
          clearTimeout(t)
          replies.delete(id)
          resolve(r)
        })
        p.stdin.write(`${JSON.stringify({ id, op, ...args })}\n`)
      })
    },
    kill() {
      p.kill('SIGKILL')
    },
  }
}
