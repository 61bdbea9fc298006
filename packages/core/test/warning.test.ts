import { describe, expect, it } from 'vitest'
import { make, server } from './helpers.js'

describe('plaintext warning', () => {
  it('warns once when connecting in plaintext to a host not recognised as loopback', async () => {
    const srv = await server()
    const warnings: Array<{ code?: string; message: string }> = []
    const onWarning = (w: Error & { code?: string }) => warnings.push(w)
    process.on('warning', onWarning)
    try {
      // '127.1' reaches 127.0.0.1 but is not spelled as loopback, like a LAN name would be.
      const xmpp = make(srv, { service: `xmpp://127.1:${srv.port}` })
      await xmpp.start()
      ;(await srv.waitForComponent('echo.localhost')).drop('rst')
      await new Promise((r) => xmpp.once('online', r))
      await new Promise((r) => setImmediate(r))
      const ours = warnings.filter((w) => w.code === 'SAT_WARN_PLAINTEXT')
      expect(ours).toHaveLength(1)
      expect(ours[0]?.message).toMatch(/plaintext/)
      await xmpp.stop()
      const local = make(srv)
      await local.start()
      await new Promise((r) => setImmediate(r))
      expect(warnings.filter((w) => w.code === 'SAT_WARN_PLAINTEXT')).toHaveLength(1)
    } finally {
      process.off('warning', onWarning)
    }
  })
})
