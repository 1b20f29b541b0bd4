/// Waiting for a condition without a polling loop: the condition is checked at once and again
/// whenever one of the events that can change it fires, until it holds, the deadline passes or the
/// wait is aborted.

/// Subscribes `check` to some events and returns the unsubscribe.
export type Subscribe = (check: () => void) => () => void

/// Resolves true once `done()` holds; false when `timeoutMs` passes or `signal` aborts first.
export async function until (done: () => boolean, subscribe: Subscribe, timeoutMs: number, signal?: AbortSignal): Promise<boolean> {
  if (done()) return true
  if (signal?.aborted === true) return false
  return await new Promise<boolean>(resolve => {
    const finish = (result: boolean): void => {
      clearTimeout(timer)
      unsubscribe()
      signal?.removeEventListener('abort', onAbort)
      resolve(result)
    }
    const onAbort = (): void => finish(false)
    const timer = setTimeout(() => finish(done()), Math.max(0, timeoutMs))
    const unsubscribe = subscribe(() => { if (done()) finish(true) })
    signal?.addEventListener('abort', onAbort, { once: true })
  })
}

/// Several subscriptions as one.
export function anyOf (...subscriptions: Subscribe[]): Subscribe {
  return check => {
    const offs = subscriptions.map(s => s(check))
    return () => { for (const off of offs) off() }
  }
}
