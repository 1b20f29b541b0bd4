/// Who is asking, and may they: every request except the login page, the bundled assets, the peer
/// channel (its own cluster-key signature) and /metrics (token or configured address) needs a
/// session cookie or an API token (`Authorization: Bearer swt_…`). A change (any method but GET
/// and HEAD) needs the admin role, and with a session also the session's CSRF token in the
/// `x-csrf-token` header (a token is no ambient credential: a browser never sends it by itself).
/// Refusals: a page without a session is sent to /login (303), an API call gets 401; a viewer's
/// change 403; a missing or wrong CSRF token 403.
import type { FastifyReply, FastifyRequest } from 'fastify'
import { csrfMatches, type Session, type Sessions } from './sessions.js'
import type { Principal, UserDb } from './users.js'

export const sessionCookie = 'sw_session'

declare module 'fastify' {
  interface FastifyRequest {
    principal?: Principal
    session?: Session
  }
}

/// Paths that answer without a session or token (each checks what it needs itself).
const open = (path: string): boolean => path === '/login' || path.startsWith('/assets/') || path === '/peer' || path === '/metrics'

export function bearer (request: FastifyRequest): string | undefined {
  const h = request.headers.authorization
  const m = h === undefined ? null : /^Bearer\s+(\S+)$/i.exec(h)
  return m?.[1]
}

export function authenticate (sessions: Sessions, users: UserDb): (request: FastifyRequest, reply: FastifyReply) => Promise<void> {
  return async (request, reply) => {
    const path = request.url.split('?')[0] ?? ''
    if (open(path)) return
    const session = sessions.get(request.cookies[sessionCookie])
    const token = bearer(request)
    const principal = session?.principal ?? (token === undefined ? undefined : await users.token(token))
    if (principal === undefined) {
      if (request.method === 'GET' && !path.startsWith('/api/')) await reply.code(303).header('location', '/login').send()
      else await reply.code(401).send({ ok: false, error: 'log in or present an API token' })
      return
    }
    request.principal = principal
    if (session !== undefined && session.principal === principal) request.session = session
    if (request.method === 'GET' || request.method === 'HEAD') return
    // Logging out is a change every role may make (still CSRF-checked: no forced logouts).
    if (path !== '/logout' && principal.role !== 'admin') {
      await reply.code(403).send({ ok: false, error: `${principal.name} is a viewer: changes need the admin role` })
      return
    }
    if (request.session !== undefined && !csrfMatches(request.session, request.headers['x-csrf-token'])) {
      await reply.code(403).send({ ok: false, error: 'missing or wrong CSRF token' })
    }
  }
}
