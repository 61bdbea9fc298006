// @xmpp/component ships no types; the tests describe the bits they use themselves.
declare module '@xmpp/component' {
  export const component: unknown
  export const xml: unknown
}
