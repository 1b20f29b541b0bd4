/// The pages and the JSON management API (/api/…), both on the same cluster reads and changes: the
/// pages render the data as escaped HTML, the API returns it as JSON (`{ ok, data }` or `{ ok:
/// false, error }`). Changes are POSTs (auth.ts: admin role, CSRF token with a session) and go to
/// the node they concern (cluster.ts), which logs them with the user and stores their event.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { gzipSync } from 'node:zlib'
import type { ClusterConsole } from './cluster.js'
import type { Actor, Operation } from './local.js'
import type { FromNode, NodeSnapshot, NodeTraffic } from './types.js'
import type { DecisionEvent } from '../records/event.js'
import type { QuarantineEntry } from '../quarantine/store.js'
import type { ConfigTree } from '../../config/load.js'
import { layout, type Html, type PageName } from './html.js'
import { clusterPage, signaturesPage } from './pages-cluster.js'
import { eventsPage, quarantineDetail, quarantinePage, trafficPage, type EventFilter } from './pages-data.js'
import { configPage, maskedConfig } from './config-view.js'
import { ConsoleError } from './errors.js'

type Entry = QuarantineEntry & { node: string }
type Query = Record<string, string | undefined>

const ages: Readonly<Record<string, number>> = { '1h': 3_600_000, '24h': 86_400_000, '7d': 7 * 86_400_000 }

function actorOf (request: FastifyRequest): Actor {
  return { user: request.principal?.name ?? '?', client: request.ip, via: request.principal?.via === 'token' ? 'API token' : 'console' }
}

function filterOf (q: Query): EventFilter {
  const s = (k: string): string => (q[k] ?? '').slice(0, 256)
  const since = s('since')
  return { service: s('service'), client: s('client'), user: s('user'), threat: s('threat'), action: s('action'), since: Object.hasOwn(ages, since) ? since : '24h' }
}

/// Events of every node (a shared PostgreSQL database answers the same events on each: kept once),
/// filtered by substring, newest first.
async function clusterEvents (c: ClusterConsole, f: EventFilter): Promise<{ events: DecisionEvent[], failed: string[] }> {
  const answers = await c.gather<DecisionEvent[]>({ op: 'events', sinceMs: ages[f.since] ?? 86_400_000, limit: 5000 })
  const seen = new Set<string>()
  const events: DecisionEvent[] = []
  for (const a of answers) {
    if (!a.ok) continue
    for (const e of a.data) {
      const id = `${e.node}\u0000${e.boot}\u0000${e.seq}`
      if (seen.has(id)) continue
      seen.add(id)
      if (f.service !== '' && !e.service.includes(f.service)) continue
      if (f.client !== '' && !e.client.includes(f.client)) continue
      if (f.user !== '' && !e.user.includes(f.user)) continue
      if (f.threat !== '' && !e.threat.toLowerCase().includes(f.threat.toLowerCase())) continue
      if (f.action !== '' && e.action !== f.action) continue
      events.push(e)
    }
  }
  return { events: events.sort((a, b) => b.at - a.at).slice(0, 1000), failed: answers.flatMap(a => a.ok ? [] : [a.node]) }
}

function fail (reply: FastifyReply, err: unknown): FastifyReply {
  const status = err instanceof ConsoleError ? err.status : 500
  return reply.code(status).send({ ok: false, error: err instanceof Error ? err.message : String(err) })
}

export function registerRoutes (app: FastifyInstance, c: ClusterConsole, config: ConfigTree): void {
  const pollMs = config.console.pollMs
  const page = async (request: FastifyRequest, reply: FastifyReply, name: PageName, title: string, body: () => Promise<Html>): Promise<FastifyReply> => {
    const p = request.principal
    try {
      const content = await body()
      return await reply.type('text/html; charset=utf-8').send(layout({ title, page: name, node: c.self, ...(p === undefined ? {} : { user: { name: p.name, role: p.role } }), csrf: request.session?.csrf ?? '' }, content))
    } catch (err) {
      return fail(reply, err)
    }
  }
  const admin = (request: FastifyRequest): boolean => request.principal?.role === 'admin'
  const snapshots = async (): Promise<Array<FromNode<NodeSnapshot>>> => await c.gather<NodeSnapshot>({ op: 'snapshot' })

  app.get('/', async (_request, reply) => await reply.code(303).header('location', '/cluster').send())
  app.get('/cluster', async (request, reply) => await page(request, reply, 'cluster', 'Cluster', async () => clusterPage(await snapshots(), admin(request))))
  app.get('/signatures', async (request, reply) => await page(request, reply, 'signatures', 'Signatures', async () => signaturesPage(await snapshots(), admin(request))))
  app.get('/traffic', async (request, reply) => await page(request, reply, 'traffic', 'Traffic', async () => trafficPage(await c.gather<NodeTraffic>({ op: 'traffic' }), pollMs)))
  app.get('/events', async (request, reply) => await page(request, reply, 'events', 'Detections & events', async () => {
    const filter = filterOf(request.query as Query)
    const { events, failed } = await clusterEvents(c, filter)
    return eventsPage(events, failed, filter)
  }))
  app.get('/quarantine', async (request, reply) => await page(request, reply, 'quarantine', 'Quarantine', async () => quarantinePage(await c.gather<Entry[]>({ op: 'quarantine' }), admin(request))))
  app.get('/quarantine/:node/:id', async (request, reply) => await page(request, reply, 'quarantine', 'Quarantined object', async () => {
    const { node, id } = request.params as { node: string, id: string }
    const entry = (await c.on<Entry[]>(node, { op: 'quarantine' })).find(e => e.id === id)
    if (entry === undefined) throw new ConsoleError(404, `no object ${id} on ${node}`)
    return quarantineDetail(entry, admin(request))
  }))
  app.get('/config', async (request, reply) => await page(request, reply, 'config', 'Configuration', async () => configPage(config)))

  // The JSON API: the same reads…
  const api = (path: string, read: (request: FastifyRequest) => Promise<unknown>): void => {
    app.get(path, async (request, reply) => {
      try { return await reply.send({ ok: true, data: await read(request) }) } catch (err) { return fail(reply, err) }
    })
  }
  api('/api/me', async request => ({ name: request.principal?.name, role: request.principal?.role, node: c.self, csrf: request.session?.csrf }))
  api('/api/cluster', snapshots)
  api('/api/traffic', async request => {
    const since = Number((request.query as Query)['since'])
    return await c.gather<NodeTraffic>({ op: 'traffic', sinceMs: Number.isFinite(since) && since > 0 ? since : undefined })
  })
  api('/api/events', async request => (await clusterEvents(c, filterOf(request.query as Query))).events)
  api('/api/quarantine', async () => await c.gather<Entry[]>({ op: 'quarantine' }))
  api('/api/config', async () => maskedConfig(config))
  // A quarantined object, defanged: gzip-compressed under a name that runs nothing, as an attachment.
  app.get('/api/quarantine/:node/:id/download', async (request, reply) => {
    const { node, id } = request.params as { node: string, id: string }
    try {
      const got = await c.on<{ entry: QuarantineEntry, base64: string }>(node, { op: 'download', id })
      const name = /^[0-9a-f]{64}$/.test(got.entry.sha256) ? got.entry.sha256 : 'quarantined'
      return await reply.type('application/gzip').header('content-disposition', `attachment; filename="${name}.defanged.gz"`).header('x-content-type-options', 'nosniff')
        .send(gzipSync(Buffer.from(got.base64, 'base64')))
    } catch (err) { return fail(reply, err) }
  })

  // …and the changes, each carried to the node it concerns.
  const change = (path: string, operation: (request: FastifyRequest) => { node: string, operation: Operation }): void => {
    app.post(path, async (request, reply) => {
      try {
        const { node, operation: op } = operation(request)
        return await reply.send({ ok: true, data: await c.apply(node, op, actorOf(request)) })
      } catch (err) { return fail(reply, err) }
    })
  }
  const params = (request: FastifyRequest): Record<string, string> => request.params as Record<string, string>
  const instance = (request: FastifyRequest): string | undefined => (request.query as Query)['instance'] || undefined
  change('/api/nodes/:node/offline', r => ({ node: params(r)['node'] ?? '', operation: { op: 'offline', instance: instance(r) } }))
  change('/api/nodes/:node/online', r => ({ node: params(r)['node'] ?? '', operation: { op: 'online', instance: instance(r) } }))
  change('/api/quarantine/:node/:id/release', r => ({ node: params(r)['node'] ?? '', operation: { op: 'release', id: params(r)['id'] ?? '' } }))
  change('/api/quarantine/:node/:id/delete', r => ({ node: params(r)['node'] ?? '', operation: { op: 'delete', id: params(r)['id'] ?? '' } }))
  change('/api/signatures/:node/update', r => ({ node: params(r)['node'] ?? '', operation: { op: 'update' } }))
}
