// ltx's whole-document parser, which the parser property tests use as an oracle: ltx ships no types and its
// @types package is not a dependency of core (declaring 'ltx' itself here would hide @xmpp/xml's Element).
declare module 'ltx/src/parse.js' {
  interface LtxElement {
    name: string
    attrs: Record<string, string>
    children: Array<LtxElement | string>
    parent: LtxElement | null
  }
  export default function parse(xml: string): LtxElement
}
