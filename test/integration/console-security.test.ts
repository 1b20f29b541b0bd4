/// The console's locks, against a real node (the CLI binary) with its console on a loopback port:
/// every page and API call without a session or token is refused; a change without the CSRF token
/// is refused; a viewer (session or token) changes nothing; logins are rate-limited; a blocked
/// request whose URL, user name and threat context carry markup (a stored XSS attempt, sent
/// through c-icap-client) is shown as inert text; every change is stored as an admin event;
/// /metrics answers curl with a token (and only with one), in a format a Prometheus parser reads.
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { randomBytes } from 'node:crypto'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import parsePrometheusTextFormat from 'parse-prometheus-text-format'
import { eicar } from '../helpers/eicar.js'
import { cliMain, startScanwallNode, type ScanwallNode } from '../helpers/scanwall-node.js'
import { freePort } from '../helpers/ports.js'
import { ConsoleClient, addUser, eventually, hostileUrl, hostileUser } from '../helpers/console-client.js'

const run = promisify(execFile)
const clientPath = '/usr/bin/c-icap-client'
describe('console: authentication, CSRF, roles, rate limit, escaping, /metrics', function () {
  this.timeout(180_000)
  const dir = mkdtempSync(join(tmpdir(), 'scanwall-console-'))
  const configFile = join(dir, 'scanwall.json')
  let node: ScanwallNode | undefined
  let base = ''
  let adminToken = ''
  let viewerToken = ''

  before(async () => {
    if (!existsSync(clientPath)) throw new Error(`${clientPath} missing: install Debian package c-icap (test/setup-peers.sh)`)
    const consolePort = await freePort()
    writeFileSync(configFile, JSON.stringify({
      console: { port: consolePort, stateDir: join(dir, 'console'), loginAttempts: 3, loginWindowMs: 60_000, pollMs: 1000 },
      quarantine: { enabled: true, dir: join(dir, 'quarantine'), key: randomBytes(32).toString('hex') },
      stats: { path: join(dir, 'records.sqlite'), flushMs: 50 },
    }))
    await addUser(configFile, 'root-admin', 'admin', 'correct horse battery')
    await addUser(configFile, 'watcher', 'viewer', 'viewer password 1')
    adminToken = (await run(process.execPath, [cliMain, 'token', 'add', 'ci-admin', '--role', 'admin', '--config', configFile])).stdout.trim()
    viewerToken = (await run(process.execPath, [cliMain, 'token', 'add', 'prometheus', '--role', 'viewer', '--config', configFile])).stdout.trim()
    node = await startScanwallNode({ dir, args: ['--config', configFile], env: { SCANWALL_CONSOLE_PORT: String(consolePort) } })
    base = `https://127.0.0.1:${consolePort}`
    await eventually(async () => (await new ConsoleClient(base).get('/login')).status === 200, 'the console listens', 30_000)
  })
  after(async () => {
    await node?.daemon.stop(5000)
    rmSync(dir, { recursive: true, force: true })
  })

  const pages = ['/', '/cluster', '/traffic', '/events', '/quarantine', '/signatures', '/config', '/quarantine/x/0123456789abcdef01234567']
  const apis = ['/api/me', '/api/cluster', '/api/traffic', '/api/events', '/api/quarantine', '/api/config', '/api/quarantine/x/0123456789abcdef01234567/download']
  const changes = ['/api/nodes/x/offline', '/api/nodes/x/online', '/api/quarantine/x/0123456789abcdef01234567/release', '/api/quarantine/x/0123456789abcdef01234567/delete', '/api/signatures/x/update']

  it('refuses every page, API read and change without a session or token', async () => {
    const anonymous = new ConsoleClient(base)
    for (const path of pages) {
      const r = await anonymous.get(path)
      assert.equal(r.status, 303, `${path}: ${r.status}`)
      assert.equal(r.headers.get('location'), '/login')
      assert.equal(r.text, '')
    }
    for (const path of apis) assert.equal((await anonymous.get(path)).status, 401, path)
    for (const path of changes) assert.equal((await anonymous.post(path)).status, 401, path)
    // A made-up session cookie and a made-up token are no better.
    const forged = new ConsoleClient(base, { cookie: `sw_session=${randomBytes(32).toString('base64url')}` })
    assert.equal((await forged.get('/api/cluster')).status, 401)
    assert.equal((await new ConsoleClient(base, { token: `swt_${'0'.repeat(16)}_${'A'.repeat(43)}` }).get('/api/cluster')).status, 401)
  })

  it('takes a change with the session and its CSRF token, refuses it without or with a wrong one', async () => {
    const admin = new ConsoleClient(base)
    await admin.login('root-admin', 'correct horse battery')
    assert.equal((await admin.get('/cluster')).status, 200)
    const self = ((await admin.getJson('/api/me')) as { node: string }).node
    const path = `/api/signatures/${self}/update`
    assert.equal((await admin.post(path, { csrf: false })).status, 403)
    assert.equal((await admin.post(path, { csrf: 'x'.repeat(43) })).status, 403)
    const ok = await admin.post(path)
    assert.equal(ok.status, 200, ok.text)
    // Stored as an event with the user's name (the writer flushes every 50 ms here).
    await eventually(async () => ((await admin.getJson('/api/events?action=admin')) as Array<{ user: string, method: string }>).some(e => e.user === 'root-admin' && e.method === 'signatures update'), 'the admin event')
    // An API token needs no CSRF token (no browser sends it on its own).
    assert.equal((await new ConsoleClient(base, { token: adminToken }).post(path, { csrf: false })).status, 200)
  })

  it('lets a viewer read but change nothing', async () => {
    const viewer = new ConsoleClient(base)
    await viewer.login('watcher', 'viewer password 1')
    assert.equal((await viewer.get('/cluster')).status, 200)
    assert.doesNotMatch((await viewer.get('/cluster')).text, /data-action="post"/, 'a viewer sees no change buttons')
    for (const path of changes) assert.equal((await viewer.post(path)).status, 403, path)
    const token = new ConsoleClient(base, { token: viewerToken })
    assert.equal((await token.get('/api/cluster')).status, 200)
    for (const path of changes) assert.equal((await token.post(path, { csrf: false })).status, 403, path)
  })

  it('rate-limits logins per address and user name', async () => {
    const c = new ConsoleClient(base)
    const statuses: number[] = []
    for (let i = 0; i < 5; i++) statuses.push((await c.loginStatus('watcher', `wrong ${i}`)))
    assert.deepEqual(statuses, [401, 401, 401, 429, 429])
    // Even the right password is refused until the window passes.
    assert.equal(await c.loginStatus('watcher', 'viewer password 1'), 429)
  })

  it('shows a stored XSS attempt through a blocked request as inert text', async () => {
    const file = join(dir, 'eicar.com')
    writeFileSync(file, eicar)
    const port = node?.port ?? 0
    const { stdout, stderr } = await run(clientPath, ['-i', '127.0.0.1', '-p', String(port), '-s', 'avscan', '-f', file, '-resp', hostileUrl, '-x', 'X-Client-IP: 192.0.2.66', '-x', `X-Authenticated-User: ${hostileUser}`, '-v', '-o', join(dir, 'answer')], { timeout: 30_000 })
    assert.match(stdout + stderr, /X-Infection-Found/)
    const admin = new ConsoleClient(base, { token: adminToken })
    await eventually(async () => ((await admin.getJson('/api/events')) as Array<{ url: string }>).some(e => e.url === hostileUrl), 'the hostile event is stored')
    for (const path of ['/events', '/quarantine']) {
      const page = (await admin.get(path)).text
      assert.doesNotMatch(page, /<script>alert/, path)
      assert.doesNotMatch(page, /<img\/src=x/, path)
      assert.match(page, /&lt;script&gt;alert\(1\)&lt;\/script&gt;/, path)
      assert.match(page, /&lt;img\/src=x\/onerror=alert\(3\)&gt;mallory/, path)
    }
    const csp = (await admin.get('/events')).headers.get('content-security-policy') ?? ''
    assert.match(csp, /script-src 'self'/)
    assert.doesNotMatch(csp, /unsafe-inline/)
  })

  it('serves /metrics to curl with a token, in the Prometheus text format, and refuses it without one', async () => {
    const withToken = await run('curl', ['-sk', '-w', '\n%{http_code}', '-H', `Authorization: Bearer ${viewerToken}`, `${base}/metrics`])
    const lines = withToken.stdout.split('\n')
    assert.equal(lines.at(-1), '200')
    const families = parsePrometheusTextFormat(lines.slice(0, -1).join('\n'))
    const byName = new Map(families.map(f => [f.name, f]))
    for (const name of ['scanwall_objects_scanned_total', 'scanwall_infections_total', 'scanwall_blocks_total', 'scanwall_service_requests_total', 'scanwall_cluster_buckets', 'scanwall_health_status', 'scanwall_node_state']) {
      assert.ok(byName.has(name), `${name} missing`)
    }
    const infections = Number(byName.get('scanwall_infections_total')?.metrics[0]?.value)
    assert.ok(infections >= 1, `infections ${infections}`)
    const buckets = byName.get('scanwall_cluster_buckets')?.metrics[0]
    assert.equal(Number(buckets?.value), 256)
    const without = await run('curl', ['-sk', '-o', '/dev/null', '-w', '%{http_code}', `${base}/metrics`])
    assert.equal(without.stdout, '401')
  })
})
