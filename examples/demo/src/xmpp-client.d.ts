// @xmpp/client ships no types; the e2e tests type the parts they use in helpers.ts.
declare module '@xmpp/client' {
  // biome-ignore lint/suspicious/noExplicitAny: untyped third-party module
  export const client: any
  // biome-ignore lint/suspicious/noExplicitAny: untyped third-party module
  export const xml: any
}
