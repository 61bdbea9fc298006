// The scenarios the blaster drives over one run: the phases (idle, warm-up, measured window; flood and
// drain), the messages it sends and what their echoes must look like, and the per-stanza paths that read the
// subject's replies (messages) or requests (iq). These are module-level functions on the run's fields: the
// per-stanza paths (onMessageData, checkMessage, onIqData) are what the methods of the Run class were, called
// the same number of times, with no wrapper between the socket's data event and them.
import { processMemKiB } from './procfs.js'
import type { Run } from './run.js'
import { attr, DOMAIN, IQ_TARGET, K_FROM, K_ID, K_TO, K_TYPE, LARGE_FILLER, MSG_END, sleep } from './wire.js'

// ---- phases ----

export async function runPhases(run: Run): Promise<void> {
  await new Promise<void>((resolve) => {
    run.onHandshakeDone = resolve
  })
  await sleep(run.cfg.idleWaitMs ?? 250)
  if (run.failure) return
  run.idleRssKiB = processMemKiB(run.pid, 'VmRSS')

  if (run.kind === 'flood') {
    await runFlood(run)
    run.finish?.()
    return
  }

  run.phase = 'warmup'
  run.lastProgress = run.now()
  // iq: the subject drives (it started its requests when online); messages: fill the window.
  if (run.kind !== 'iq') sendMessages(run, run.window)
  await sleep(run.cfg.warmupMs)
  if (run.failure) return
  run.snap0 = run.snapshot()
  run.phase = 'measure'
  run.latencies = []
  await sleep(run.cfg.durationMs)
  if (run.failure) return
  run.snap1 = run.snapshot()
  run.phase = 'done'
  run.finish?.()
}

async function runFlood(run: Run): Promise<void> {
  const floodMs = run.cfg.floodMs ?? 2000
  const floodMax = run.cfg.floodMax ?? 200_000
  const sock = run.sock
  if (!sock) throw new Error('no connection')
  run.phase = 'flood'
  run.snap0 = run.snapshot()
  const tStart = run.now()
  run.sending = true
  const batch = 256
  while (run.sending && !run.failure && run.now() - tStart < floodMs && run.nextSeq < floodMax) {
    const n = Math.min(batch, floodMax - run.nextSeq)
    const ok = sock.write(buildMessages(run, n))
    if (!ok) {
      // Wait until the kernel buffer takes more, but keep checking the clock.
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer)
          sock.off('drain', done)
          resolve()
        }
        const timer = setTimeout(done, 50)
        sock.once('drain', done)
      })
    } else {
      await new Promise<void>((r) => setImmediate(r))
    }
  }
  run.sending = false
  const sent = run.nextSeq
  const tFloodEnd = run.now()
  run.phase = 'drain'
  run.lastProgress = run.now()
  // Wait until everything is answered; the stall detector ends this if replies stop coming.
  while (!run.failure && run.count < sent) await sleep(20)
  const tEnd = run.now()
  run.snap1 = run.snapshot()
  run.floodStats = {
    slowUs: run.cfg.slowUs ?? 50,
    sent,
    answered: run.count,
    lost: sent - run.count,
    floodSeconds: (tFloodEnd - tStart) / 1000,
    drainSeconds: (tEnd - tFloodEnd) / 1000,
  }
  run.phase = 'done'
}

// ---- messages: what is sent, what must come back ----

/** Message number `seq` as the blaster sends it, and what the echo must look like. */
function fromOf(seq: number): string {
  return `user${seq % 1000}@localhost/r`
}

function toOf(run: Run, seq: number): string {
  return run.kind === 'users' ? `u${seq % (run.cfg.users ?? 100_000)}@${DOMAIN}` : `bot@${DOMAIN}`
}

function bodyOf(run: Run, seq: number): string {
  if (run.kind !== 'large') return `hello ${seq}`
  const head = `hello ${seq} `
  return head + LARGE_FILLER.slice(0, Math.max(0, (run.cfg.bodyBytes ?? 8192) - head.length))
}

function buildMessages(run: Run, n: number): string {
  const t = Math.round((run.now() - run.t0) * 1000)
  let out = ''
  for (let i = 0; i < n; i++) {
    const seq = run.nextSeq++
    out += `<message from='${fromOf(seq)}' to='${toOf(run, seq)}' type='chat' id='m${seq}-${t}'><body>${bodyOf(run, seq)}</body></message>`
  }
  if (run.nextSeq > run.answered.length) {
    let size = run.answered.length
    while (size < run.nextSeq) size *= 2
    const grown = new Uint8Array(size)
    grown.set(run.answered)
    run.answered = grown
  }
  return out
}

function sendMessages(run: Run, n: number): void {
  if (n > 0 && run.sock && !run.stopping) run.sock.write(buildMessages(run, n))
}

export function onMessageData(run: Run): void {
  const s = run.buf
  let pos = 0
  let n = 0
  const nowUs = Math.round((run.now() - run.t0) * 1000)
  for (;;) {
    const end = s.indexOf(MSG_END, pos)
    if (end < 0) break
    const start = s.indexOf('<message', pos)
    const stop = end + MSG_END.length
    if (start < 0 || start > end) {
      run.badReply(`unexpected data: ${s.slice(pos, stop)}`)
      pos = stop
      continue
    }
    if (start > pos && s.slice(pos, start).trim() !== '')
      run.badReply(`unexpected data: ${s.slice(pos, start)}`)
    checkMessage(run, s, start, stop, nowUs)
    pos = stop
    n++
  }
  run.buf = pos === 0 ? s : s.slice(pos)
  if (n > 0) {
    run.lastProgress = run.now()
    if (run.kind !== 'flood' && (run.phase === 'warmup' || run.phase === 'measure')) sendMessages(run, n)
  } else if (run.buf.includes('<stream:error') || run.buf.includes('</stream:stream>')) {
    run.fail(`subject sent a stream error or closed the stream: ${run.buf.slice(0, 300)}`)
  }
}

function checkMessage(run: Run, s: string, start: number, stop: number, nowUs: number): void {
  const tagEnd = s.indexOf('>', start)
  const id = attr(s, start, tagEnd, K_ID)
  const dash = id === undefined ? -1 : id.indexOf('-')
  const seq =
    id !== undefined && id.charCodeAt(0) === 109 && dash > 1 ? Number(id.slice(1, dash)) : Number.NaN
  if (!Number.isInteger(seq) || seq < 0 || seq >= run.nextSeq || run.answered[seq] === 1) {
    run.badReply(`bad or duplicate id '${id}': ${s.slice(start, Math.min(stop, start + 200))}`)
    return
  }
  run.answered[seq] = 1
  run.count++
  run.bytes += stop - start
  if (run.count % run.latencyEvery === 0) {
    run.latencies.push(nowUs - Number((id as string).slice(dash + 1)))
  }
  if (run.count <= 3 || run.count % run.verifyEvery === 0) {
    run.fullChecked++
    const from = attr(s, start, tagEnd, K_FROM)
    const to = attr(s, start, tagEnd, K_TO)
    const type = attr(s, start, tagEnd, K_TYPE)
    const b0 = s.indexOf('<body>', tagEnd)
    const b1 = s.indexOf('</body>', tagEnd)
    const body = b0 < 0 || b1 < 0 || b1 > stop ? undefined : s.slice(b0 + 6, b1)
    const wantFrom = toOf(run, seq)
    const wantTo = fromOf(seq)
    if (from !== wantFrom || to !== wantTo || type !== 'chat' || body !== bodyOf(run, seq)) {
      run.badReply(
        `reply ${id}: from=${from} (want ${wantFrom}) to=${to} (want ${wantTo}) type=${type} body ${
          body === undefined ? 'missing' : body === bodyOf(run, seq) ? 'ok' : `wrong: ${body.slice(0, 40)}`
        }`,
      )
    }
  }
}

// ---- iq: the subject asks, the blaster answers ----

export function onIqData(run: Run): void {
  const s = run.buf
  let pos = 0
  let out = ''
  let n = 0
  for (;;) {
    const start = s.indexOf('<', pos)
    if (start < 0) {
      pos = s.length
      break
    }
    if (!s.startsWith('<iq', start)) {
      if (s.startsWith('<stream:error', start) || s.startsWith('</stream:stream', start)) {
        run.fail(`subject sent a stream error or closed the stream: ${s.slice(start, start + 300)}`)
        return
      }
      const close = s.indexOf('>', start)
      if (close < 0) break
      run.badReply(`unexpected data in iq scenario: ${s.slice(start, start + 200)}`)
      pos = close + 1
      continue
    }
    const tagEnd = s.indexOf('>', start)
    if (tagEnd < 0) break
    let stop: number
    if (s.charCodeAt(tagEnd - 1) === 47) stop = tagEnd + 1
    else {
      const close = s.indexOf('</iq>', tagEnd)
      if (close < 0) break
      stop = close + 5
    }
    const id = attr(s, start, tagEnd, K_ID)
    const type = attr(s, start, tagEnd, K_TYPE)
    const from = attr(s, start, tagEnd, K_FROM)
    const to = attr(s, start, tagEnd, K_TO)
    n++
    if (id === undefined || id === '' || type !== 'get' || from !== DOMAIN || to !== IQ_TARGET) {
      run.badReply(`bad iq request: ${s.slice(start, Math.min(stop, start + 200))}`)
    } else {
      if (n <= 3 || (run.count + 1) % run.verifyEvery === 0) {
        run.fullChecked++
        if (!s.slice(tagEnd, stop).includes('urn:xmpp:ping'))
          run.badReply(`iq without ping payload: ${s.slice(start, stop)}`)
      }
      run.count++
      run.bytes += stop - start
      out += `<iq type='result' id='${id}' from='${to}' to='${from}'/>`
    }
    pos = stop
  }
  run.buf = pos === 0 ? s : s.slice(pos)
  if (n > 0) run.lastProgress = run.now()
  if (out.length > 0 && run.sock && !run.stopping) run.sock.write(out)
}
