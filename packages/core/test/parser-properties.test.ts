// Property-based tests of the StreamParser on well-formed input (issue #15 section 6): random XMPP streams
// (parser-gen.ts: a header, stanzas with random and realistic names, prefixed elements and attributes with
// their declarations, values and text with every character class written as raw characters, entities,
// decimal and hex character references, CDATA sections; nesting up to the depth limit), split at random
// byte offsets (inside UTF-8 sequences, tags, entities, CDATA markers) or fed byte by byte, must parse to
// exactly the elements the model holds, to what ltx's parser builds from the whole document, and to what
// the parser itself reports for the document in one chunk; the limits hold to the byte and to the level.
//
// Knobs: FUZZ_RUNS=<n> runs each property n times its default number of runs (FUZZ_RUNS=20 for a deep run);
// FUZZ_SEED and FUZZ_PATH replay a failure (fast-check prints both).

import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  chooseCuts,
  cutsArb,
  depthOf,
  type Event,
  expectedEvents,
  fuzzParams,
  ltxEvents,
  plainModel,
  recorder,
  serialise,
  split,
  stanzaBytes,
  streamArb,
  timeout,
  withoutProto,
  type XEl,
  type XStream,
} from './parser-gen.js'

const maxDepth = (s: XStream) => s.stanzas.reduce((d, el) => Math.max(d, depthOf(el)), 1)

describe('StreamParser properties: well-formed streams', () => {
  it(
    'split anywhere, a stream parses to the model, to ltx’s tree and to the one-chunk result',
    () => {
      fc.assert(
        fc.property(
          streamArb,
          fc.integer(),
          cutsArb,
          fc.nat(2),
          fc.nat(3),
          (stream, seed, cuts, depthSlack, byteSlack) => {
            const doc = serialise(stream, seed)
            const bytes = Buffer.from(doc.text)
            const expected = expectedEvents(stream)
            // the oracle agrees with the model (else the generator, not the parser, is wrong)
            expect(ltxEvents(doc.text, stream.ended)).toEqual(withoutProto(expected))
            // limits exactly at (or just above) what the stream needs: nothing may be refused
            const limits = {
              maxDepth: maxDepth(stream) + depthSlack,
              maxStanzaBytes: Math.max(stanzaBytes(doc.text, doc.stanzaRanges) + byteSlack, doc.headBytes),
            }
            const one = recorder(limits)
            one.write(bytes)
            expect(one.problems).toEqual([])
            expect(one.events).toEqual(expected)
            const many = recorder(limits)
            for (const chunk of split(bytes, chooseCuts(bytes, cuts))) many.write(chunk)
            expect(many.problems).toEqual([])
            expect(many.events).toEqual(expected)
            // nothing left behind once every stanza is complete (whitespace between stanzas is dropped)
            expect(many.parser.buffered).toBe(0)
          },
        ),
        fuzzParams(250),
      )
    },
    timeout(),
  )

  it(
    'a stanza one byte or one level over a limit is refused with policy-violation, wherever the chunks end',
    () => {
      fc.assert(
        fc.property(
          streamArb.filter((s) => s.stanzas.length > 0),
          fc.integer(),
          cutsArb,
          fc.nat(),
          fc.boolean(),
          (stream, seed, cuts, which, byDepth) => {
            const doc = serialise(stream, seed)
            const bytes = Buffer.from(doc.text)
            const sizes = doc.stanzaRanges.map(([a, b]) => Buffer.byteLength(doc.text.slice(a, b)))
            const depths = stream.stanzas.map(depthOf)
            // the limit is one below the size (or depth) of a stanza picked at random
            const victim = which % stream.stanzas.length
            const limits = byDepth
              ? { maxDepth: (depths[victim] as number) - 1, maxStanzaBytes: 1 << 20 }
              : { maxDepth: 1000, maxStanzaBytes: (sizes[victim] as number) - 1 }
            fc.pre(byDepth ? limits.maxDepth >= 1 : limits.maxStanzaBytes >= doc.headBytes)
            const over = (i: number) =>
              byDepth ? (depths[i] as number) > limits.maxDepth : (sizes[i] as number) > limits.maxStanzaBytes
            const expected: Event[] = [{ kind: 'start', attrs: stream.header.map(([k, v]) => [k, v]) }]
            for (let i = 0; i < stream.stanzas.length; i++) {
              if (over(i)) {
                expected.push({ kind: 'error', condition: 'policy-violation' })
                break
              }
              expected.push({ kind: 'stanza', el: plainModel(stream.stanzas[i] as XEl) })
            }
            for (const chunks of [[bytes], split(bytes, chooseCuts(bytes, cuts))]) {
              const r = recorder(limits)
              for (const chunk of chunks) r.write(chunk)
              expect(r.problems).toEqual([])
              expect(r.events).toEqual(expected)
              expect(r.parser.buffered).toBe(0)
            }
          },
        ),
        fuzzParams(150),
      )
    },
    timeout(),
  )

  it(
    'after reset() a parser reads a new stream as a fresh one would',
    () => {
      fc.assert(
        fc.property(streamArb, streamArb, fc.integer(), fc.nat(), (first, second, seed, cut) => {
          const a = Buffer.from(serialise(first, seed).text)
          const b = Buffer.from(serialise(second, seed + 1).text)
          const r = recorder()
          // the first stream stops anywhere (mid-token, mid-stanza), then the parser is reset
          r.write(a.subarray(0, cut % (a.length + 1)))
          r.parser.reset()
          r.clear()
          r.write(b)
          expect(r.problems).toEqual([])
          expect(r.events).toEqual(expectedEvents(second))
        }),
        fuzzParams(100),
      )
    },
    timeout(),
  )
})
