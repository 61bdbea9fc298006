#!/usr/bin/env node
// A rolling restart of chatroom instances, one at a time (docs/scaling.md, "A rolling restart").
//
//   node examples/chatroom/scripts/rolling-restart.mjs --server ejabberd|prosody --log-dir DIR \
//     NAME=PID [NAME=PID…] [-- COMMAND [ARGS…]]
//
// For each NAME=PID (a running instance and its process id), in order: on Prosody the old process
// is told first (SIGUSR2: it stops when the new one takes the domain with kick_old); then a new
// process is started with this script's environment (CHATROOM_DB, XMPP_*, CHATROOM_LEASE_TTL…)
// and CHATROOM_INSTANCE=NAME, detached, its output appended to DIR/NAME.log; on ejabberd the new
// process takes the old one's lease and slot over through PostgreSQL (the old one stops by
// itself). The script waits until the new process logs that it is online and the old one is gone,
// then goes on to the next; it prints one JSON line per instance ({instance, old, pid, onlineMs,
// goneMs}) and exits 1 at the first instance not replaced within --timeout ms (default 30,000).
// COMMAND defaults to `node examples/chatroom/dist/main.js`. A supervisor (systemd…) does the same
// by starting the new unit of an instance with the old one's CHATROOM_INSTANCE before stopping it.
import { spawn } from 'node:child_process'
import { closeSync, fstatSync, openSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const MAIN = fileURLToPath(new URL('../dist/main.js', import.meta.url))
const NAME = /^[\x21-\x7e]{1,200}$/

function usage(message) {
  console.error(`rolling-restart: ${message}`)
  console.error(
    'usage: rolling-restart.mjs --server ejabberd|prosody --log-dir DIR [--timeout MS] NAME=PID... [-- COMMAND ARGS...]',
  )
  process.exit(2)
}

const args = process.argv.slice(2)
const dash = args.indexOf('--')
const command = dash === -1 ? [process.execPath, MAIN] : args.slice(dash + 1)
const rest = dash === -1 ? args : args.slice(0, dash)
let server
let logDir
let timeout = 30_000
const instances = []
for (let i = 0; i < rest.length; i++) {
  const a = rest[i]
  if (a === '--server') server = rest[++i]
  else if (a === '--log-dir') logDir = rest[++i]
  else if (a === '--timeout') timeout = Number(rest[++i])
  else {
    const m = /^(.+)=(\d+)$/.exec(a)
    if (m === null || !NAME.test(m[1])) usage(`expected NAME=PID, got ${JSON.stringify(a)}`)
    instances.push({ name: m[1], pid: Number(m[2]) })
  }
}
if (server !== 'ejabberd' && server !== 'prosody') usage('--server must be ejabberd or prosody')
if (logDir === undefined) usage('--log-dir is required')
if (!Number.isInteger(timeout) || timeout < 1000) usage('--timeout: at least 1000 ms')
if (instances.length === 0) usage('no NAME=PID given')
if (command.length === 0) usage('an empty command after --')

const alive = (pid) => {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return err.code === 'EPERM'
  }
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms))
/** Whether the log, past `from` bytes (what earlier processes wrote), says the process is online. */
const online = (file, from) => {
  try {
    return readFileSync(file).subarray(from).toString().includes('] online as ')
  } catch {
    return false
  }
}

for (const { name, pid } of instances) {
  if (!alive(pid)) {
    console.error(`rolling-restart: ${name}: process ${pid} is not running`)
    process.exit(1)
  }
  if (server === 'prosody') {
    // Told first: when the new process takes the domain (kick_old), the old one stops instead of
    // reconnecting. The handler runs on its next turn of the event loop.
    process.kill(pid, 'SIGUSR2')
    await sleep(200)
  }
  const file = join(logDir, `${name}.log`)
  const out = openSync(file, 'a')
  const from = fstatSync(out).size
  const started = performance.now()
  const child = spawn(command[0], command.slice(1), {
    env: { ...process.env, CHATROOM_INSTANCE: name },
    stdio: ['ignore', out, out],
    detached: true,
  })
  closeSync(out)
  let exited = null
  child.on('exit', (code, signal) => {
    exited = signal ?? code
  })
  child.unref()
  let onlineMs
  let goneMs
  while (performance.now() - started < timeout && exited === null) {
    const t = Math.round(performance.now() - started)
    if (onlineMs === undefined && online(file, from)) onlineMs = t
    if (goneMs === undefined && !alive(pid)) goneMs = t
    if (onlineMs !== undefined && goneMs !== undefined) break
    await sleep(20)
  }
  if (onlineMs === undefined || goneMs === undefined) {
    const why = exited !== null ? `the new process exited (${exited})` : `not replaced in ${timeout} ms`
    console.error(`rolling-restart: ${name}: ${why}; see ${file}`)
    process.exit(1)
  }
  console.log(JSON.stringify({ instance: name, old: pid, pid: child.pid, onlineMs, goneMs }))
}
