/// Console sessions and the login rate limit, both in memory and bounded. A session is a random
/// 256-bit id (the HttpOnly Secure SameSite=Strict cookie) with its user, role, expiry and its own
/// CSRF token (the synchronizer pattern: every change must echo it in a header, which a page of
/// another site cannot read). Sessions end at console.sessionTtlMs or at logout; a node restart
/// ends them all (nothing to steal from disk).
/// The limiter is a fixed window per key (client address, and user name): a failed login counts,
/// and past console.loginAttempts failures in console.loginWindowMs the key is refused until the
/// window passes. Written here rather than taken from @fastify/rate-limit, which counts every
/// request to a route, not failures, and cannot key one route by two things at once.
import { randomBytes, timingSafeEqual } from 'node:crypto'
import type { Principal } from './users.js'

export interface Session { readonly id: string, readonly principal: Principal, readonly csrf: string, readonly expires: number }

/// Live sessions at most: past it the oldest is dropped (a login flood cannot exhaust memory).
const maxSessions = 10_000
/// Keys the limiter remembers at most: past it the oldest windows are forgotten.
const maxKeys = 100_000

export class Sessions {
  readonly #ttlMs: number
  readonly #live = new Map<string, Session>()
  constructor (ttlMs: number) { this.#ttlMs = ttlMs }

  create (principal: Principal, now = Date.now()): Session {
    for (const [id, s] of this.#live) if (s.expires <= now) this.#live.delete(id)
    if (this.#live.size >= maxSessions) {
      const oldest = this.#live.keys().next().value
      if (oldest !== undefined) this.#live.delete(oldest)
    }
    const session: Session = { id: randomBytes(32).toString('base64url'), principal, csrf: randomBytes(32).toString('base64url'), expires: now + this.#ttlMs }
    this.#live.set(session.id, session)
    return session
  }

  get (id: string | undefined, now = Date.now()): Session | undefined {
    if (id === undefined) return undefined
    const s = this.#live.get(id)
    if (s === undefined) return undefined
    if (s.expires <= now) { this.#live.delete(id); return undefined }
    return s
  }

  end (id: string | undefined): void { if (id !== undefined) this.#live.delete(id) }
}

/// Constant-time comparison of a presented CSRF token with the session's.
export function csrfMatches (session: Session, presented: unknown): boolean {
  if (typeof presented !== 'string') return false
  const a = Buffer.from(presented)
  const b = Buffer.from(session.csrf)
  return a.length === b.length && timingSafeEqual(a, b)
}

export class LoginLimiter {
  readonly #attempts: number
  readonly #windowMs: number
  readonly #windows = new Map<string, { start: number, failures: number }>()

  constructor (attempts: number, windowMs: number) {
    this.#attempts = attempts
    this.#windowMs = windowMs
  }

  /// Milliseconds until any of `keys` may try again; 0 when all may try now.
  blockedFor (keys: readonly string[], now = Date.now()): number {
    let wait = 0
    for (const key of keys) {
      const w = this.#windows.get(key)
      if (w === undefined || now - w.start >= this.#windowMs) continue
      if (w.failures >= this.#attempts) wait = Math.max(wait, w.start + this.#windowMs - now)
    }
    return wait
  }

  failed (keys: readonly string[], now = Date.now()): void {
    for (const key of keys) {
      let w = this.#windows.get(key)
      if (w === undefined || now - w.start >= this.#windowMs) {
        this.#windows.delete(key)
        w = { start: now, failures: 0 }
        if (this.#windows.size >= maxKeys) {
          const oldest = this.#windows.keys().next().value
          if (oldest !== undefined) this.#windows.delete(oldest)
        }
        this.#windows.set(key, w)
      }
      w.failures++
    }
  }

  succeeded (keys: readonly string[]): void { for (const key of keys) this.#windows.delete(key) }
}
