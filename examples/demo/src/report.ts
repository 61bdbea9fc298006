import type { Element } from '@satellite/testing'

const tty = process.stdout.isTTY === true
const paint = (code: string, s: string) => (tty ? `\x1b[${code}m${s}\x1b[0m` : s)

/** Prints a section heading. */
export function section(title: string): void {
  console.log(`\n${paint('1', `── ${title}`)}`)
}

/** One transcript line per routed stanza: who sent what to whom. */
export function printStanza(source: string, stanza: Element, outcome: string): void {
  const to = stanza.attrs.to ?? '(server)'
  const from = stanza.attrs.from ?? source.replace(/^component /, '')
  let what = stanza.name
  const body = stanza.getChildText('body')
  if (body !== null) what += ` "${body}"`
  else {
    const child = stanza.children.find((c) => typeof c !== 'string') as Element | undefined
    if (child) what += ` <${child.name}${child.attrs.xmlns ? ` xmlns='${child.attrs.xmlns}'` : ''}>`
  }
  if (stanza.attrs.type) what += ` (${stanza.attrs.type})`
  console.log(
    `   ${paint('36', from)} → ${paint('33', to)}: ${what}${outcome === 'delivered' ? '' : paint('2', ` [${outcome}]`)}`,
  )
}

/** Collects the demo's checks and prints the summary. */
export class Checks {
  passed = 0
  failed = 0
  readonly #lines: string[] = []

  ok(what: string, cond = true): void {
    if (cond) this.passed++
    else this.failed++
    const line = `${cond ? paint('32', '✔') : paint('31', '✘')} ${what}`
    this.#lines.push(line)
    console.log(`   ${line}`)
  }

  equal(what: string, actual: unknown, expected: unknown): void {
    this.ok(
      actual === expected
        ? what
        : `${what}: got ${JSON.stringify(actual)}, expected ${JSON.stringify(expected)}`,
      actual === expected,
    )
  }

  fail(what: string): void {
    this.ok(what, false)
  }

  print(): void {
    for (const l of this.#lines) console.log(`   ${l}`)
    console.log(`\n   ${this.passed} passed, ${this.failed} failed`)
  }
}
