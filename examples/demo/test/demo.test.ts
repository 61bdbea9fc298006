import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { expect, it } from 'vitest'

it('the demo plays its script with every check passing', () => {
  const main = fileURLToPath(new URL('../dist/main.js', import.meta.url))
  const run = spawnSync(process.execPath, [main], { encoding: 'utf8', timeout: 60_000 })
  expect(run.stderr).toBe('')
  expect(run.stdout).toMatch(/Hello, Satellite!/)
  expect(run.stdout).toMatch(/remote-server-timeout|bounces messages/)
  expect(run.stdout).toMatch(/\n\s+35 passed, 0 failed/)
  expect(run.stdout).toMatch(/bob no longer finds alice/)
  expect(run.stdout).toMatch(/zed → alice/)
  expect(run.stdout).toMatch(/✔ zed's group message arrives from #general@gateway\/zed/)
  expect(run.stdout).toMatch(
    /✔ carol gets the history with its delays: "Hi bob, welcome to the lobby", "Thanks alice!"/,
  )
  expect(run.stdout).toMatch(/✔ the archive answers with 2 messages, complete, in order/)
  expect(run.stdout).toMatch(/✔ bob is told he was kicked \(307, 110\)/)
  expect(run.status).toBe(0)
})
