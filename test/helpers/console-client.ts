/// A small HTTPS client for the console's tests, as a script would talk to it: a session cookie
/// kept after login (with the CSRF token the login answered), or an API token; the console's
/// certificate is self-signed, so it is not verified here (the tests check the locks, not the PKI).
import { request } from 'node:https'
import { spawn } from 'node:child_process'
import assert from 'node:assert/strict'
import { cliMain } from './scanwall-node.js'

export interface Answer { readonly status: number, readonly headers: Map<string, string>, readonly text: string }

export class ConsoleClient {
  readonly #base: URL
  #cookie: string | undefined
  #csrf = ''
  readonly #token: string | undefined

  constructor (base: string, options: { cookie?: string, token?: string } = {}) {
    this.#base = new URL(base)
    this.#cookie = options.cookie
    this.#token = options.token
  }

  async #send (method: string, path: string, body: string | undefined, headers: Record<string, string> = {}): Promise<Answer> {
    return await new Promise((resolve, reject) => {
      const req = request({
        host: this.#base.hostname,
        port: this.#base.port,
        path,
        method,
        rejectUnauthorized: false,
        headers: {
          ...(this.#cookie === undefined ? {} : { cookie: this.#cookie }),
          ...(this.#token === undefined ? {} : { authorization: `Bearer ${this.#token}` }),
          ...(body === undefined ? {} : { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) }),
          ...headers,
        },
      }, res => {
        const chunks: Buffer[] = []
        res.on('data', (c: Buffer) => chunks.push(c))
        res.on('end', () => {
          const h = new Map<string, string>()
          for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) h.set(k, Array.isArray(v) ? v.join(', ') : v)
          resolve({ status: res.statusCode ?? 0, headers: h, text: Buffer.concat(chunks).toString('utf8') })
        })
      })
      req.on('error', reject)
      req.end(body)
    })
  }

  async get (path: string): Promise<Answer> { return await this.#send('GET', path, undefined) }

  async getJson (path: string): Promise<unknown> {
    const a = await this.get(path)
    if (a.status !== 200) throw new Error(`${path}: ${a.status} ${a.text}`)
    return (JSON.parse(a.text) as { data: unknown }).data
  }

  /// A change: with the session's CSRF token unless `csrf` is false (or another token to present).
  async post (path: string, { csrf = true as boolean | string } = {}): Promise<Answer> {
    const headers: Record<string, string> = csrf === false ? {} : { 'x-csrf-token': csrf === true ? this.#csrf : csrf }
    return await this.#send('POST', path, '{}', headers)
  }

  async loginStatus (user: string, password: string): Promise<number> {
    const a = await this.#send('POST', '/login', JSON.stringify({ user, password }))
    if (a.status === 200) {
      this.#cookie = (a.headers.get('set-cookie') ?? '').split(';')[0]
      this.#csrf = (JSON.parse(a.text) as { data: { csrf: string } }).data.csrf
    }
    return a.status
  }

  async login (user: string, password: string): Promise<void> {
    const status = await this.loginStatus(user, password)
    if (status !== 200) throw new Error(`login ${user}: ${status}`)
  }
}

export async function eventually (check: () => Promise<boolean>, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  let last: unknown
  while (Date.now() < deadline) {
    try { if (await check()) return } catch (err) { last = err }
    await new Promise(resolve => setTimeout(resolve, 200))
  }
  throw new Error(`timed out waiting for ${what}${last === undefined ? '' : `: ${String(last)}`}`)
}

/// Markup in a URL and a user name, as a hostile client would send them (a stored XSS attempt).
export const hostileUrl = 'http://evil.test/<script>alert(1)</script>?q="><img/src=x/onerror=alert(2)>'
export const hostileUser = '<img/src=x/onerror=alert(3)>mallory'

/// `scanwall user add NAME --role ROLE` with the password on stdin, as a script would.
export async function addUser (configFile: string, name: string, role: string, password: string): Promise<void> {
  const child = spawn(process.execPath, [cliMain, 'user', 'add', name, '--role', role, '--config', configFile], { stdio: ['pipe', 'pipe', 'pipe'] })
  let err = ''
  child.stderr.on('data', (d: Buffer) => { err += d.toString() })
  child.stdin.end(`${password}\n`)
  const code = await new Promise<number | null>(resolve => child.on('exit', resolve))
  assert.equal(code, 0, `user add ${name}: ${err}`)
}
