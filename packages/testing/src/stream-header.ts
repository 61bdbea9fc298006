// The stream header exchange of a server connection: what the server answers to the
// component's `<stream:stream>` (the flavour's checks) and the header it writes.
import type { ServerResolvedOptions } from './options.js'
import { type Element, escapeXML, NS } from './xml.js'

/** What to do with the component's stream header. @internal */
export type HeaderVerdict =
  /** Answer with a header carrying `streamId`, then wait for the handshake. */
  | { kind: 'accept'; domain: string; streamId: string }
  /** Answer with a header carrying `streamId` (`''` for none), then close with a stream error. */
  | { kind: 'refuse'; domain: string | undefined; streamId: string; condition: string; text: string }

/** Checks a component's stream header against the server's configuration and flavour. @internal */
export function checkHeader(header: Element, options: ServerResolvedOptions): HeaderVerdict {
  const prosody = options.flavour === 'prosody'
  const attrs = header.attrs as Record<string, string | undefined>
  const refuse = (condition: string, text: string, domain?: string, streamId?: string): HeaderVerdict => ({
    kind: 'refuse',
    domain,
    streamId: streamId ?? (prosody ? '' : options.streamId()),
    condition,
    text,
  })
  if (header.name !== 'stream:stream' || attrs['xmlns:stream'] !== NS.stream) {
    return refuse('invalid-namespace', 'Stream namespace must be http://etherx.jabber.org/streams')
  }
  if (attrs.xmlns !== NS.component) {
    return refuse('invalid-namespace', `Default namespace must be ${NS.component}`)
  }
  const to = attrs.to?.toLowerCase()
  if (!to) return refuse('improper-addressing', "Missing 'to' attribute")
  const known = options.components.has(to)
  if (prosody && (!known || to === options.domain)) {
    return refuse('host-unknown', `'${to}' does not match any configured external components`, to, '')
  }
  return { kind: 'accept', domain: to, streamId: options.streamId() }
}

/** The server's `<?xml?><stream:stream …>` with stream id `id` (`''` for none). @internal */
export function headerXml(id: string, domain: string | undefined, options: ServerResolvedOptions): string {
  const attrs: [string, string][] = [
    ['xmlns:stream', NS.stream],
    ['xmlns', NS.component],
    ['id', id],
  ]
  if (domain) attrs.push(['from', domain])
  if (options.flavour === 'prosody') attrs.push(['xml:lang', 'en'])
  if (options.shuffleHeaderAttributes) shuffle(attrs)
  const list = attrs.map(([k, v]) => ` ${k}='${escapeXML(v)}'`).join('')
  return `<?xml version='1.0'?><stream:stream${list}>`
}

function shuffle<T>(items: T[]): void {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1))
    const tmp = items[i]!
    items[i] = items[j]!
    items[j] = tmp
  }
}
