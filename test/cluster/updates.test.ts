/// Signature updates across the cluster test bed: three `scanwall start` processes in network
/// namespaces share one mirror (a directory laid out like a private mirror, written by the test with
/// CVDs and a cdiff signed by a test key). The lowest live node id fetches from it; the others fetch
/// the same files from that node over the cluster network (HMAC with the cluster key) and verify them
/// again. Every node reports what it runs in `cluster status` and in its SNMP cluster table.
import assert from 'node:assert/strict'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { TestBed, snmpPort, snmpUser, type NodeProc } from './testbed.js'
import { Harness, sleep } from './harness.js'
import { run, v3Args, mibArgs, parseVarbinds } from '../helpers/snmp.js'
import { buildCdiff, buildCvd, testKey } from '../helpers/signed-db.js'

const repo = fileURLToPath(new URL('../../..', import.meta.url))
const hexOf = (s: string): string => Buffer.from(s).toString('hex')
const daily1 = { 'daily.ndb': `Cl.One:0:*:${hexOf('cluster-update-one')}\n` }
const daily2 = { 'daily.ndb': `Cl.One:0:*:${hexOf('cluster-update-one')}\nCl.Two:0:*:${hexOf('cluster-update-two')}\n` }
const main1 = { 'main.ndb': `Cl.Main:0:*:${hexOf('cluster-update-main')}\n` }
const intervalMs = 20_000

interface LogLine { readonly msg?: string, readonly source?: string, readonly version?: string, readonly time?: string }

describe('cluster: signature updates reach every node (one fetcher, peers over the cluster network)', function () {
  this.timeout(240_000)
  const bed = new TestBed(repo)
  const h = new Harness(bed)
  const key = testKey()
  const mirror = join(bed.dir, 'mirror')
  const snmpAuth = v3Args({ user: snmpUser.name, auth: 'SHA-256', authKey: snmpUser.authKey, priv: 'AES', privKey: snmpUser.privKey })
  const snmpEnv = { ...process.env, SNMP_PERSISTENT_DIR: join(bed.dir, 'snmp-persist') }

  const versions = async (n: NodeProc): Promise<Map<string, string>> => {
    const status = await h.status(n)
    return new Map(Object.values(status).flatMap(i => i.nodes).map(x => [x.id, x.signatureVersion]))
  }
  const logLines = (n: NodeProc): LogLine[] => readFileSync(n.log, 'utf8').split('\n').filter(l => l.startsWith('{')).map(l => JSON.parse(l) as LogLine)
  /// Until every node's status shows every node at `want`; the time it took.
  const allAt = async (want: string, timeoutMs: number): Promise<number> => {
    const started = Date.now()
    for (;;) {
      const seen = await Promise.all(bed.nodes.map(async n => [...await versions(n)].map(([id, v]) => `${n.name}:${id}=${v}`)))
      if (seen.flat().every(s => s.endsWith(`=${want}`)) && seen.flat().length === bed.nodes.length ** 2) return Date.now() - started
      if (Date.now() - started > timeoutMs) throw new Error(`not every node runs ${want} after ${timeoutMs} ms: ${seen.flat().join(', ')}`)
      await sleep(250)
    }
  }

  before(async function () {
    mkdirSync(mirror, { recursive: true })
    writeFileSync(join(mirror, 'main.cvd'), buildCvd('main', 1, main1, key))
    writeFileSync(join(mirror, 'daily.cvd'), buildCvd('daily', 1, daily1, key))
    await h.setUp(() => ({ tests: [] }), undefined, n => ({
      signatures: { cacheDir: join(bed.dir, `${n.name}-cache`) },
      updates: { mirror, intervalMs, trustedKeys: [key.trusted] },
    }))
  })

  afterEach(function () { if (this.currentTest?.state === 'failed') h.failed = true })
  after(async function () { await h.tearDown() })

  it('installs version N everywhere; only the lowest id reads the mirror, the others fetch from it', async () => {
    console.log(`    all nodes at daily:1 main:1 after ${await allAt('daily:1 main:1', intervalMs)} ms`)
    const [first, ...others] = bed.nodes
    const updated = (n: NodeProc): LogLine[] => logLines(n).filter(l => l.msg === 'signatures updated')
    // The heartbeat can carry the new version before the node's log line reaches its file.
    for (let tries = 0; tries < 50 && bed.nodes.some(n => updated(n).length === 0); tries++) await sleep(100)
    assert.deepEqual(updated(first!).map(l => l.source), [mirror], `${first!.name} (lowest id) fetched from the mirror`)
    for (const n of others) {
      assert.deepEqual(updated(n).map(l => l.source), [`peer http://${first!.ip}:1345/updates/`], `${n.name} fetched from ${first!.name}`)
    }
  })

  it('N+1 published: all three run it within one update interval; cluster status and SNMP show it per node', async () => {
    writeFileSync(join(mirror, 'daily-2.cdiff'), buildCdiff('daily', 2, daily1, daily2, key))
    writeFileSync(join(mirror, 'daily.cvd'), buildCvd('daily', 2, daily2, key))
    // The fetcher notices at its next check (within one interval); the others follow its heartbeats.
    const ms = await allAt('daily:2 main:1', intervalMs + 15_000)
    const swapTimes = (): number[] => bed.nodes.map(n => logLines(n).filter(l => l.msg === 'signatures updated' && l.version === 'daily:2 main:1').at(-1)?.time ?? '').map(t => Date.parse(t) || 0)
    // As above: the heartbeat can carry the new version before the node's log line reaches its file.
    for (let tries = 0; tries < 50 && swapTimes().some(t => t === 0); tries++) await sleep(100)
    const swaps = swapTimes()
    const mixed = Math.max(...swaps) - Math.min(...swaps)
    console.log(`    all three nodes at daily:2 main:1 ${ms} ms after publication; versions mixed for ${mixed} ms (interval ${intervalMs} ms)`)
    assert.ok(swaps.every(t => t > 0))
    assert.ok(mixed < intervalMs, `the cluster served a mix of versions for ${mixed} ms, more than one interval`)
    for (const n of bed.nodes.slice(1)) {
      const last = logLines(n).filter(l => l.msg === 'signatures updated').at(-1)
      assert.match(String(last?.source), /^peer http:\/\//, `${n.name} took N+1 from the fetcher`)
    }
    for (const n of bed.nodes) {
      const r = await run('ip', ['netns', 'exec', n.ns, 'snmpwalk', ...snmpAuth, ...mibArgs, '-t', '2', '-r', '1', `127.0.0.1:${snmpPort}`, 'SCANWALL-MIB::swClusterTable'], snmpEnv)
      assert.equal(r.code, 0, `snmpwalk on ${n.name} failed: ${r.stderr}`)
      // The new column may end the walked view: snmpwalk then prints the end-of-view marker after it.
      const got = parseVarbinds(r.stdout.split('\n').filter(l => !l.includes('No more variables left')).join('\n'))
      const rows = [...got].filter(([name]) => name.startsWith('swClusterNodeId.')).map(([name, id]) => [id, got.get(`swClusterSigVersion.${name.split('.')[1] ?? ''}`)])
      console.log(`    SNMP on ${n.name}: ${rows.map(([id, v]) => `${id} ${v}`).join(', ')}`)
      assert.equal(rows.length, 3)
      for (const [id, v] of rows) assert.equal(v, 'daily:2 main:1', `${n.name} shows ${id} at ${v}`)
    }
  })
})
