// Subject "raw": the floor. Plain node `net` and string operations, no XML parsing.
// XEP-0114 handshake by hand, then either:
//  - echo (BENCH_MODE=echo): find each `</message>`, swap the from/to attribute values, one socket.write per read;
//  - iq (BENCH_MODE=iq): keep BENCH_IQ_WINDOW `<iq type='get'>` pings in flight, one new request per result.
// It relies on the blaster's exact serialisation (single quotes, from before to), which is the point: it measures
// what node + loopback I/O cost, not XML.
import { createHash } from 'node:crypto'
import { connect } from 'node:net'

const service = new URL(process.env.XMPP_SERVICE ?? 'xmpp://127.0.0.1:5347')
const domain = process.env.XMPP_DOMAIN ?? 'echo.localhost'
const secret = process.env.XMPP_SECRET ?? ''
const mode = process.env.BENCH_MODE ?? 'echo'
const slowUs = Number(process.env.BENCH_SLOW_US ?? 0)
const iqWindow = Number(process.env.BENCH_IQ_WINDOW ?? 100)
const iqTarget = process.env.BENCH_IQ_TARGET ?? 'blaster.localhost'

function spin(us) {
  const end = performance.now() + us / 1000
  while (performance.now() < end) {}
}

const sock = connect({ host: service.hostname, port: Number(service.port || 5347) })
sock.setNoDelay(true)
sock.setEncoding('utf8')
sock.on('error', (err) => {
  console.error('raw subject socket error:', err.message)
  process.exit(1)
})
sock.on('connect', () => {
  sock.write(
    `<?xml version='1.0'?><stream:stream xmlns='jabber:component:accept' xmlns:stream='http://etherx.jabber.org/streams' to='${domain}'>`,
  )
})

let state = 'header'
let buf = ''
let iqSeq = 0

function iq() {
  return `<iq type='get' id='q${iqSeq++}' from='${domain}' to='${iqTarget}'><ping xmlns='urn:xmpp:ping'/></iq>`
}

function online() {
  state = 'online'
  if (mode === 'iq') {
    let out = ''
    for (let i = 0; i < iqWindow; i++) out += iq()
    sock.write(out)
  }
}

function echo() {
  let pos = 0
  let out = ''
  for (;;) {
    const end = buf.indexOf('</message>', pos)
    if (end < 0) break
    const stop = end + 10
    const f = buf.indexOf(" from='", pos) + 7
    const fe = buf.indexOf("'", f)
    const t = buf.indexOf(" to='", fe) + 5
    const te = buf.indexOf("'", t)
    if (slowUs > 0) spin(slowUs)
    out += `<message from='${buf.slice(t, te)}' to='${buf.slice(f, fe)}'${buf.slice(te + 1, stop)}`
    pos = stop
  }
  buf = buf.slice(pos)
  if (out) sock.write(out)
}

function iqResults() {
  let pos = 0
  let out = ''
  for (;;) {
    const start = buf.indexOf('<iq', pos)
    if (start < 0) break
    const end = buf.indexOf('>', start)
    if (end < 0) break
    pos = end + 1
    out += iq()
  }
  buf = buf.slice(pos)
  if (out) sock.write(out)
}

sock.on('data', (chunk) => {
  buf += chunk
  if (state === 'header') {
    const s = buf.indexOf('<stream:stream')
    const e = s < 0 ? -1 : buf.indexOf('>', s)
    if (e < 0) return
    const m = /\sid=['"]([^'"]*)['"]/.exec(buf.slice(s, e))
    if (!m) throw new Error(`no stream id in ${buf.slice(s, e + 1)}`)
    sock.write(
      `<handshake>${createHash('sha1')
        .update(m[1] + secret, 'utf8')
        .digest('hex')}</handshake>`,
    )
    buf = buf.slice(e + 1)
    state = 'handshake'
  }
  if (state === 'handshake') {
    const i = buf.indexOf('<handshake/>')
    if (i < 0) {
      if (buf.includes('<stream:error')) throw new Error(`handshake refused: ${buf}`)
      return
    }
    buf = buf.slice(i + 12)
    online()
  }
  if (mode === 'iq') iqResults()
  else echo()
})
