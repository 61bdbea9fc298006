import {
  type Component,
  component,
  type Element,
  isSatelliteError,
  type SatelliteError,
  xml,
} from '@satellite/core'
import { NS_DATA, submitForm } from '@satellite/forms'
import { afterTest } from '@satellite/test-support/cleanup'
import { testServer } from '@satellite/test-support/component'
import type { SimulatedClient, TestServer } from '@satellite/testing'
import { type Directory, type DirectoryOptions, directory } from '../src/service.js'
import type { DirectoryStore } from '../src/store.js'

export { fails } from '@satellite/test-support/component'

export const DOMAIN = 'directory.localhost'
export const SECRET = 'directory-secret'
export const NS_REGISTER = 'jabber:iq:register'
export const NS_SEARCH = 'jabber:iq:search'
export const NS_COMMANDS = 'http://jabber.org/protocol/commands'
export const NS_RSM = 'http://jabber.org/protocol/rsm'

export interface Setup {
  srv: TestServer
  xmpp: Component
  dir: Directory
  client(jid: string): SimulatedClient
}

let stores: (() => Promise<DirectoryStore>) | undefined

/**
 * Runs the suites that import these helpers on another backend: each {@link setup} without a
 * `store` or `dbPath` gets a fresh store of `make` (closed after the test) instead of the in-memory
 * SQLite one. e2e/test/postgres-directory-service.test.ts runs them on PostgreSQL.
 */
export function useStores(make: () => Promise<DirectoryStore>): void {
  stores = make
}

/** An embedded server, a started component with the directory, all closed after the test. */
export async function setup(options: DirectoryOptions = {}, domain = DOMAIN): Promise<Setup> {
  const srv = await testServer(domain, SECRET)
  const xmpp = component({ service: srv.url, domain, secret: SECRET })
  const store =
    stores !== undefined && options.store === undefined && options.dbPath === undefined
      ? await stores()
      : undefined
  const dir = directory(xmpp, store === undefined ? options : { ...options, store })
  afterTest(async () => {
    await xmpp.stop()
    await dir.close()
    await store?.close()
  })
  await xmpp.start()
  return { srv, xmpp, dir, client: (jid) => srv.client(jid) }
}

/** The error `make` throws: a fatal SAT_ERR_CONFIG (a bad option), or the test fails. */
export function configError(make: () => unknown): SatelliteError<string> {
  try {
    make()
  } catch (err) {
    if (!isSatelliteError(err)) throw err
    if (err.code !== 'SAT_ERR_CONFIG' || !err.fatal) throw err
    return err
  }
  throw new Error('expected an option error')
}

export const iq = (type: 'get' | 'set', ...children: Element[]) =>
  xml('iq', { type, to: DOMAIN }, ...children)
export const query = (xmlns: string, ...children: Array<Element | undefined>) =>
  xml('query', { xmlns }, ...children.filter((c): c is Element => c !== undefined))

export const registerForm = (values: Record<string, string | boolean | string[]>) =>
  iq('set', query(NS_REGISTER, submitForm(values, { formType: NS_REGISTER })))
export const searchForm = (values: Record<string, string>, rsm?: Element) =>
  iq('set', query(NS_SEARCH, submitForm(values, { formType: NS_SEARCH }), rsm))
export const rsm = (children: Record<string, string>) =>
  xml('set', { xmlns: NS_RSM }, ...Object.entries(children).map(([k, v]) => xml(k, {}, v)))

/** The rows of a form search result: var → value. */
export function rows(answer: Element): Array<Record<string, string>> {
  const x = answer.getChild('query', NS_SEARCH)?.getChild('x', NS_DATA)
  return (x?.getChildren('item') ?? []).map((item) =>
    Object.fromEntries(
      item.getChildren('field').map((f) => [
        f.attrs.var as string,
        f
          .getChildren('value')
          .map((v) => v.getText())
          .join('\n'),
      ]),
    ),
  )
}

/**
 * Runs an ad-hoc command with @satellite/testing's `client.command()`: execute, then submits
 * `values` at each stage (`next`, the last one `complete`); returns the last answer.
 */
export async function runCommand(
  c: SimulatedClient,
  node: string,
  ...stages: Array<Record<string, string | boolean | string[]>>
): Promise<Element> {
  const session = await c.command(DOMAIN, node)
  for (const [i, values] of stages.entries()) {
    await (i === stages.length - 1 ? session.complete(values) : session.next(values))
  }
  return session.response
}
