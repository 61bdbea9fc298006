import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { expect, it } from 'vitest'

it('the demo plays its script against a real Prosody (--server prosody)', async () => {
  const main = fileURLToPath(new URL('../../examples/demo/dist/main.js', import.meta.url))
  // Ports of its own, beside the Prosody the e2e project already runs.
  const env = {
    ...process.env,
    PROSODY_C2S_PORT: '16222',
    PROSODY_COMPONENT_PORT: '16347',
    PROSODY_COMPONENT_TLS_PORT: '16348',
  }
  const { code, out } = await new Promise<{ code: number | null; out: string }>((resolve) => {
    const p = spawn(process.execPath, [main, '--server', 'prosody'], { env })
    let out = ''
    p.stdout.on('data', (d) => (out += d))
    p.stderr.on('data', (d) => (out += d))
    p.on('close', (code) => resolve({ code, out }))
  })
  expect(out).toMatch(/Prosody 0\.12/)
  expect(out).toMatch(/Hello, Satellite!/)
  expect(out).toMatch(/\n\s+35 passed, 0 failed/)
  expect(out).toMatch(/✔ alice joins #general@gateway/)
  expect(out).toMatch(/✔ carol sees bob leave, kicked \(307\)/)
  expect(code).toBe(0)
}, 90_000)
