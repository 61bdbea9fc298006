// satellite dev loads the embedded server on demand: satellite run does not carry it (~3 MiB of RSS).
import { spawn, spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { component } from '@satellite/core'
import { expect, it } from 'vitest'

const bin = fileURLToPath(new URL('../dist/bin.js', import.meta.url))

it('satellite dev starts the embedded server, which a component can connect to; SIGTERM stops it', async () => {
  const child = spawn(
    process.execPath,
    [bin, 'dev', '--port', '0', '--component', 'echo.localhost=dev-secret-42'],
    {
      stdio: ['pipe', 'pipe', 'pipe'],
    },
  )
  let out = ''
  child.stdout.on('data', (d) => (out += d))
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  try {
    await expect.poll(() => out, { timeout: 10_000 }).toMatch(/listening on xmpp:\/\/127\.0\.0\.1:\d+/)
    const url = /listening on (xmpp:\/\/127\.0\.0\.1:\d+)/.exec(out)?.[1] as string
    const xmpp = component({
      service: url,
      domain: 'echo.localhost',
      secret: 'dev-secret-42',
      reconnect: false,
    })
    await xmpp.start()
    expect(xmpp.online).toBe(true)
    await xmpp.stop()
  } finally {
    child.kill('SIGTERM')
  }
  expect(await exited).toBe(0)
})

it('satellite run and config do not load @satellite/testing', () => {
  // every module main.js (what the satellite binary loads) imports, recorded by a resolve hook
  const hook = `let port
export function initialize(data) { port = data.port }
export async function resolve(specifier, context, next) {
  const resolved = await next(specifier, context)
  port.postMessage(resolved.url)
  return resolved
}`
  const probe = `
    import { register } from 'node:module'
    import { MessageChannel } from 'node:worker_threads'
    const { port1, port2 } = new MessageChannel()
    const urls = []
    port1.on('message', (url) => urls.push(url))
    register(${JSON.stringify(`data:text/javascript,${encodeURIComponent(hook)}`)}, { data: { port: port2 }, transferList: [port2] })
    await import(${JSON.stringify(new URL('../dist/main.js', import.meta.url).href)})
    await new Promise((r) => setTimeout(r, 200))
    port1.close()
    console.log(JSON.stringify(urls))
  `
  const run = spawnSync(process.execPath, ['--input-type=module', '-e', probe], { encoding: 'utf8' })
  expect(run.stderr).toBe('')
  const urls = JSON.parse(run.stdout) as string[]
  expect(urls.some((u) => u.endsWith('/cli/dist/run.js'))).toBe(true) // the hook saw the imports
  expect(urls.some((u) => u.endsWith('/core/dist/satellite-core.js'))).toBe(true)
  expect(urls.filter((u) => u.includes('/testing/'))).toEqual([])
})

it('docs/cli.md: the chatroom under satellite run joins satellite dev, and console clients talk in a room', async () => {
  const chatroom = fileURLToPath(new URL('../../../examples/chatroom/dist/bot.js', import.meta.url))
  const dev = spawn(
    process.execPath,
    [
      bin,
      'dev',
      '--port',
      '0',
      '--component',
      'chat.localhost=dev-secret',
      '--client',
      'alice@localhost/dev',
    ],
    { stdio: ['pipe', 'pipe', 'pipe'] },
  )
  let out = ''
  dev.stdout.on('data', (d) => (out += d))
  const devExited = new Promise<number | null>((resolve) => dev.once('exit', (code) => resolve(code)))
  let run: ReturnType<typeof spawn> | undefined
  try {
    await expect.poll(() => out, { timeout: 10_000 }).toMatch(/listening on xmpp:\/\/127\.0\.0\.1:\d+/)
    const url = /listening on (xmpp:\/\/127\.0\.0\.1:\d+)/.exec(out)?.[1] as string
    run = spawn(process.execPath, [bin, 'run', chatroom], {
      stdio: 'ignore',
      env: {
        ...process.env,
        XMPP_SERVICE: url,
        XMPP_DOMAIN: 'chat.localhost',
        XMPP_SECRET: 'dev-secret',
        XMPP_SECRET_FILE: undefined,
        CHATROOM_DB: ':memory:',
      },
    })
    await expect.poll(() => out, { timeout: 10_000 }).toMatch(/component chat\.localhost authenticated/)
    dev.stdin.write('/join lobby@chat.localhost/alice\n/say lobby@chat.localhost hello\n')
    await expect
      .poll(() => out, { timeout: 5000 })
      .toMatch(/-> alice@localhost\/dev message\(groupchat\) delivered: "hello"/)
    expect(out).toMatch(/<status code="110"\/><status code="201"\/>/) // alice created the room
    dev.stdin.write('/as bob@localhost/dev\n/join lobby@chat.localhost/bob\n')
    // bob gets the history: alice's message
    await expect
      .poll(() => out, { timeout: 5000 })
      .toMatch(/-> bob@localhost\/dev message\(groupchat\) delivered: "hello"/)
  } finally {
    const runExited = run && new Promise((resolve) => run?.once('exit', resolve))
    run?.kill('SIGTERM')
    dev.kill('SIGTERM')
    await runExited
  }
  expect(await devExited).toBe(0)
})
