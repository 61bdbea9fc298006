import { describe, expect, it } from 'vitest'
import { KeyedQueue } from '../src/keyed-queue.js'

/** A promise with its resolve and reject. */
function deferred<T = void>() {
  let resolve!: (v: T) => void
  let reject!: (e: unknown) => void
  const promise = new Promise<T>((res, rej) => {
    resolve = res
    reject = rej
  })
  return { promise, resolve, reject }
}

describe('KeyedQueue', () => {
  it('runs the operations of one key in call order, each after the one before has settled', async () => {
    const q = new KeyedQueue()
    const order: string[] = []
    const first = deferred()
    const a = q.run('k', async () => {
      order.push('a start')
      await first.promise
      order.push('a end')
      return 1
    })
    const b = q.run('k', async () => {
      order.push('b')
      return 2
    })
    await new Promise((r) => setTimeout(r, 5))
    expect(order).toEqual(['a start'])
    first.resolve()
    expect(await Promise.all([a, b])).toEqual([1, 2])
    expect(order).toEqual(['a start', 'a end', 'b'])
  })

  it('runs different keys concurrently', async () => {
    const q = new KeyedQueue()
    const blocker = deferred()
    const slow = q.run('x', () => blocker.promise.then(() => 'x'))
    expect(await q.run('y', async () => 'y')).toBe('y')
    await expect.poll(() => q.size).toBe(1) // y is forgotten, x is still in flight
    blocker.resolve()
    expect(await slow).toBe('x')
  })

  it('goes on after a failed operation, and passes its rejection (or a synchronous throw) to its caller only', async () => {
    const q = new KeyedQueue()
    const failed = q.run('k', async () => {
      throw new Error('boom')
    })
    const thrown = q.run('j', () => {
      throw new Error('sync')
    })
    const after = q.run('k', async () => 'after')
    await expect(failed).rejects.toThrow('boom')
    await expect(thrown).rejects.toThrow('sync')
    expect(await after).toBe('after')
  })

  it('forgets a key once its operations have settled (bounded by what is in flight)', async () => {
    const q = new KeyedQueue()
    await Promise.all(Array.from({ length: 1000 }, (_, i) => q.run(`k${i}`, async () => i)))
    await q.idle()
    expect(q.size).toBe(0)
  })

  it('idle() waits for every operation called before it, not for later ones', async () => {
    const q = new KeyedQueue()
    const gate = deferred()
    let done = false
    void q.run('k', async () => {
      await gate.promise
      done = true
    })
    const idle = q.idle()
    const later = deferred()
    void q.run('k', () => later.promise)
    let idled = false
    void idle.then(() => {
      idled = true
    })
    await new Promise((r) => setTimeout(r, 5))
    expect(idled).toBe(false)
    gate.resolve()
    await idle
    expect(done).toBe(true)
    later.resolve()
    await q.idle()
  })
})
