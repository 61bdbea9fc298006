// Test support for the repository's own tests (not published): a per-test cleanup list.
import { afterEach } from 'vitest'

type Cleanup = { run: () => unknown; strict: boolean }

const cleanups: Cleanup[] = []

// Registered once per test file (vitest evaluates this module again for each file).
afterEach(async () => {
  let failure: { error: unknown } | undefined
  while (cleanups.length > 0) {
    const { run, strict } = cleanups.pop() as Cleanup
    try {
      await run()
    } catch (error) {
      if (strict && failure === undefined) failure = { error }
    }
  }
  if (failure !== undefined) throw failure.error
})

/**
 * Runs `run` after the current test, the last registered first. Errors are ignored, unless
 * `strict`: then the first one fails the test, once every other cleanup has run.
 */
export function afterTest(run: () => unknown, options: { strict?: boolean } = {}): void {
  cleanups.push({ run, strict: options.strict === true })
}
