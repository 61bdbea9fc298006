// Records uncaught exceptions and unhandled rejections during a test (and fails nothing by
// itself): a test asserts the list is empty. The listeners are removed after the test.
import { afterTest } from '@satellite/test-support/cleanup'

export function noUncaught(): () => string[] {
  const seen: string[] = []
  const onError = (err: unknown) => void seen.push(`uncaught: ${String(err)}`)
  const onRejection = (err: unknown) => void seen.push(`unhandled rejection: ${String(err)}`)
  process.on('uncaughtException', onError)
  process.on('unhandledRejection', onRejection)
  afterTest(() => {
    process.off('uncaughtException', onError)
    process.off('unhandledRejection', onRejection)
  })
  return () => [...seen]
}
