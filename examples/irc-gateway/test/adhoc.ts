// Running the Configure command of server@gateway from a simulated XMPP client.
import type { Element } from '@satellite/core'
import type { SimulatedClient } from '@satellite/testing'

/** Runs Configure on `to` (server@gateway) as `client`, submitting `fields` (var → value). */
export async function configure(client: SimulatedClient, to: string, fields: Record<string, string>) {
  const first = await client.request(
    `<iq type='set' to='${to}'><command xmlns='http://jabber.org/protocol/commands' node='configure' action='execute'/></iq>`,
    5000,
  )
  const command = first.getChild('command') as Element
  const values = Object.entries(fields)
    .map(([k, v]) => `<field var='${k}'><value>${v}</value></field>`)
    .join('')
  return client.request(
    `<iq type='set' to='${to}'><command xmlns='http://jabber.org/protocol/commands' node='configure' sessionid='${command.attrs.sessionid}' action='complete'><x xmlns='jabber:x:data' type='submit'>${values}</x></command></iq>`,
    5000,
  )
}
