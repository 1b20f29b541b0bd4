/// The console's HTTPS server (fastify): security headers on every answer (a Content-Security-Policy
/// that allows only the bundled script and styles, no framing, no referrer, no caching of data),
/// the bundled assets, login and logout (rate-limited, sessions in HttpOnly Secure SameSite=Strict
/// cookies), /metrics (token or a configured address), the signed peer channel, then the pages
/// and the JSON API (routes.ts) behind authentication (auth.ts).
import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify'
import cookie from '@fastify/cookie'
import type { AddressInfo } from 'node:net'
import type { ConfigTree } from '../../config/load.js'
import type { Logger } from '../log.js'
import { consoleTls } from './tls.js'
import { Sessions, LoginLimiter } from './sessions.js'
import { UserDb } from './users.js'
import { authenticate, bearer, sessionCookie } from './auth.js'
import { registerRoutes } from './routes.js'
import { loadAssets } from './assets.js'
import { html, layout } from './html.js'
import { PeerGate, parseCall, runCall } from './peer.js'
import type { ClusterConsole } from './cluster.js'
import type { LocalNode } from './local.js'
import type { Registry } from 'prom-client'
import { ConsoleError } from './errors.js'

const csp = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

export interface ConsoleParts {
  readonly config: ConfigTree
  readonly cluster: ClusterConsole
  readonly local: LocalNode
  readonly metrics: Registry
  /// The cluster key (peer channel); undefined: standalone, /peer refuses everything.
  readonly key: Buffer | undefined
  readonly log: Logger
}

function loginPage (node: string, message: string): string {
  return layout({ title: 'Log in', page: 'login', node }, html`${message === '' ? html`` : html`<p class="warn" id="login-error">${message}</p>`}
<form method="post" action="/login" id="login"><label>User <input name="user" autocomplete="username" required></label>
<label>Password <input name="password" type="password" autocomplete="current-password" required></label><button>Log in</button></form>`)
}

export class ConsoleServer {
  readonly #app: FastifyInstance
  private constructor (app: FastifyInstance) { this.#app = app }

  get port (): number { return (this.#app.server.address() as AddressInfo).port }

  static async start (parts: ConsoleParts): Promise<ConsoleServer> {
    const settings = parts.config.console
    const tls = await consoleTls(settings)
    const app = Fastify({ https: { cert: tls.cert, key: tls.key }, logger: false, bodyLimit: 64 * 1024, trustProxy: false })
    const users = new UserDb(settings.stateDir)
    const sessions = new Sessions(settings.sessionTtlMs)
    const limiter = new LoginLimiter(settings.loginAttempts, settings.loginWindowMs)
    const assets = await loadAssets()
    const gate = parts.key === undefined ? undefined : new PeerGate(parts.key)
    const self = parts.cluster.self

    await app.register(cookie)
    // The login form posts application/x-www-form-urlencoded; the peer channel needs its body as sent.
    app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => { done(null, Object.fromEntries(new URLSearchParams(String(body)))) })
    app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => {
      try { done(null, { raw: String(body), json: body === '' ? {} : JSON.parse(String(body)) as unknown }) } catch { done(new ConsoleError(400, 'body is not JSON'), undefined) }
    })
    app.addHook('onSend', async (_request, reply, payload) => {
      reply.header('content-security-policy', csp).header('x-frame-options', 'DENY').header('referrer-policy', 'no-referrer').header('x-content-type-options', 'nosniff')
      if (reply.getHeader('cache-control') === undefined) reply.header('cache-control', 'no-store')
      return payload
    })
    app.setErrorHandler(async (err: { statusCode?: number, message?: string }, _request, reply) => {
      const status = err instanceof ConsoleError ? err.status : (err.statusCode ?? 500)
      if (status >= 500) parts.log.error({ err: err.message }, 'console request failed')
      return await reply.code(status).send({ ok: false, error: status >= 500 ? 'internal error' : err.message })
    })
    app.setNotFoundHandler(async (_request, reply) => await reply.code(404).send({ ok: false, error: 'not found' }))
    app.addHook('onRequest', authenticate(sessions, users))

    app.get('/assets/:name', async (request, reply) => {
      const asset = assets.get((request.params as { name: string }).name)
      if (asset === undefined) return await reply.code(404).send({ ok: false, error: 'not found' })
      return await reply.type(asset.type).header('cache-control', 'max-age=3600').send(asset.body)
    })
    app.get('/login', async (_request, reply) => await reply.type('text/html; charset=utf-8').send(loginPage(self, '')))
    app.post('/login', async (request, reply) => {
      const body = (request.body ?? {}) as { user?: unknown, password?: unknown, json?: { user?: unknown, password?: unknown } }
      const form = body.json ?? body
      const name = typeof form.user === 'string' ? form.user.slice(0, 64) : ''
      const password = typeof form.password === 'string' ? form.password.slice(0, 1024) : ''
      const keys = [`ip:${request.ip}`, `user:${name}`]
      const wait = limiter.blockedFor(keys)
      const wantsJson = body.json !== undefined
      if (wait > 0) {
        parts.log.warn({ user: name, client: request.ip }, 'console login refused: too many failures')
        reply.code(429).header('retry-after', String(Math.ceil(wait / 1000)))
        return wantsJson ? await reply.send({ ok: false, error: 'too many failed logins; try again later' }) : await reply.type('text/html; charset=utf-8').send(loginPage(self, 'Too many failed logins; try again later.'))
      }
      const principal = await users.login(name, password)
      if (principal === undefined) {
        limiter.failed(keys)
        parts.log.warn({ user: name, client: request.ip }, 'console login failed')
        reply.code(401)
        return wantsJson ? await reply.send({ ok: false, error: 'wrong user or password' }) : await reply.type('text/html; charset=utf-8').send(loginPage(self, 'Wrong user or password.'))
      }
      limiter.succeeded(keys)
      const session = sessions.create(principal)
      parts.log.info({ user: name, client: request.ip }, 'console login')
      reply.setCookie(sessionCookie, session.id, { path: '/', httpOnly: true, secure: true, sameSite: 'strict', maxAge: Math.floor(settings.sessionTtlMs / 1000) })
      return wantsJson ? await reply.send({ ok: true, data: { name, role: principal.role, csrf: session.csrf } }) : await reply.code(303).header('location', '/cluster').send()
    })
    app.post('/logout', async (request, reply) => {
      sessions.end(request.cookies[sessionCookie])
      reply.clearCookie(sessionCookie, { path: '/' })
      return await reply.send({ ok: true })
    })
    app.get('/metrics', async (request, reply) => {
      const token = bearer(request)
      const allowed = settings.metricsAllow.includes(request.ip.replace(/^::ffff:/, '')) || (token !== undefined && await users.token(token) !== undefined)
      if (!allowed) return await reply.code(401).send({ ok: false, error: 'metrics need an API token or an address in console.metricsAllow' })
      return await reply.type(parts.metrics.contentType).send(await parts.metrics.metrics())
    })
    app.post('/peer', async (request, reply) => {
      const body = request.body as { raw?: string, json?: unknown } | undefined
      const raw = body?.raw ?? ''
      const answer = async (status: number, value: unknown, nonce?: string): Promise<FastifyReply> => {
        const text = JSON.stringify(value)
        if (nonce !== undefined && gate !== undefined) reply.header('x-scanwall-peer', gate.sign(nonce, text))
        return await reply.code(status).type('application/json').send(text)
      }
      if (gate === undefined) return await answer(404, { ok: false, error: 'not in a cluster' })
      let nonce: string
      try { nonce = gate.admit(request.headers['x-scanwall-peer'] as string | undefined, raw) } catch (err) {
        parts.log.warn({ client: request.ip, err: err instanceof Error ? err.message : String(err) }, 'console peer request refused')
        return await answer(err instanceof ConsoleError ? err.status : 401, { ok: false, error: 'refused' })
      }
      try {
        return await answer(200, { ok: true, data: await runCall(parts.local, parseCall(body?.json)) }, nonce)
      } catch (err) {
        return await answer(err instanceof ConsoleError ? err.status : 500, { ok: false, error: err instanceof Error ? err.message : String(err) }, nonce)
      }
    })
    registerRoutes(app, parts.cluster, parts.config)
    await app.listen({ host: settings.host, port: settings.port })
    parts.log.info({ host: settings.host, port: (app.server.address() as AddressInfo).port, selfSigned: tls.selfSigned, users: users.file }, 'console listening (HTTPS)')
    return new ConsoleServer(app)
  }

  async close (): Promise<void> { await this.#app.close() }
}
