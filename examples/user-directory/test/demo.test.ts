import { describe, expect, it } from 'vitest'
import { demo } from '../src/demo.js'
import { DOMAIN, setup } from './helpers.js'

describe('demo', () => {
  it('plays the scripted conversation against a running directory, every check passing', async () => {
    const s = await setup()
    const checks: Array<[string, boolean]> = []
    const sections: string[] = []
    await demo({
      domain: DOMAIN,
      client: async (user, resource) => {
        const c = s.client(`${user}@localhost/${resource}`)
        return {
          jid: `${user}@localhost/${resource}`,
          send: (el) => c.send(el),
          request: (iq) => c.request(iq),
        }
      },
      check: (what, ok) => void checks.push([what, ok]),
      section: (title) => void sections.push(title),
    })
    expect(sections).toHaveLength(3)
    expect(checks.length).toBeGreaterThanOrEqual(6)
    expect(checks.filter(([, ok]) => !ok)).toEqual([])
    expect(await s.dir.store.count()).toBe(0)
  })
})
