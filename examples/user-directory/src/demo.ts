// A short scripted conversation with a running user directory at `ctx.domain`: alice
// registers with the form, bob searches and finds her, alice deletes her entry, bob no
// longer finds her. Wired into examples/demo by its owner.
import { bareOf, type Element, xml } from '@satellite/core'
import { NS_DATA, submitForm } from '@satellite/forms'

/** What the demo needs from its host. */
export interface DemoContext {
  domain: string
  client(
    user: string,
    resource: string,
  ): Promise<{ jid: string; send(el: Element): void; request(iq: Element): Promise<Element> }>
  check(what: string, ok: boolean): void
  section(title: string): void
}

const NS_REGISTER = 'jabber:iq:register'
const NS_SEARCH = 'jabber:iq:search'

/** The JIDs of a form search result. */
function resultJids(answer: Element): string[] {
  const x = answer.getChild('query', NS_SEARCH)?.getChild('x', NS_DATA)
  return (x?.getChildren('item') ?? []).map(
    (item) =>
      item
        .getChildren('field')
        .find((f) => f.attrs.var === 'jid')
        ?.getChildText('value') ?? '',
  )
}

export async function demo(ctx: DemoContext): Promise<void> {
  const { domain } = ctx
  const alice = await ctx.client('alice', 'directory')
  const bob = await ctx.client('bob', 'directory')
  const aliceBare = bareOf(alice.jid)

  ctx.section('user directory: alice registers with the form (XEP-0077)')
  const form = await alice.request(
    xml('iq', { type: 'get', to: domain }, xml('query', { xmlns: NS_REGISTER })),
  )
  const fields = (
    form.getChild('query', NS_REGISTER)?.getChild('x', NS_DATA)?.getChildren('field') ?? []
  ).map((f) => f.attrs.var as string)
  ctx.check(
    'the registration form asks for a nickname and the publish choices',
    fields.includes('nick') && fields.includes('publish_email'),
  )
  const registered = await alice.request(
    xml(
      'iq',
      { type: 'set', to: domain },
      xml(
        'query',
        { xmlns: NS_REGISTER },
        submitForm(
          {
            nick: 'Alice',
            fullname: 'Alice Liddell',
            locality: 'Oxford',
            email: 'alice@example.org',
            publish_email: false,
          },
          { formType: NS_REGISTER },
        ),
      ),
    ),
  )
  ctx.check('alice is registered', registered.attrs.type === 'result')

  ctx.section('user directory: bob searches (XEP-0055, full text and prefixes)')
  const find = (criteria: Record<string, string>) =>
    bob.request(
      xml(
        'iq',
        { type: 'set', to: domain },
        xml('query', { xmlns: NS_SEARCH }, submitForm(criteria, { formType: NS_SEARCH })),
      ),
    )
  const found = await find({ text: 'lidd oxf' })
  ctx.check('bob finds alice by the beginnings of her name and town', resultJids(found).includes(aliceBare))
  const hidden = await find({ text: 'example' })
  ctx.check(
    'her unpublished email address is neither searched nor shown',
    !resultJids(hidden).includes(aliceBare),
  )

  ctx.section('user directory: alice deletes her entry')
  const removed = await alice.request(
    xml('iq', { type: 'set', to: domain }, xml('query', { xmlns: NS_REGISTER }, xml('remove'))),
  )
  ctx.check('alice’s entry is deleted', removed.attrs.type === 'result')
  const gone = await find({ text: 'lidd' })
  ctx.check('bob no longer finds alice', !resultJids(gone).includes(aliceBare))
}
