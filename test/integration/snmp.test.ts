import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pino } from 'pino'
import { loadConfig } from '../../config/load.js'
import { startNode, type RunningNode } from '../../src/node.js'
import { engineIdFor } from '../../protocols/snmp/engine-id.js'
import { scalars } from '../../protocols/snmp/mib.js'
import { eicar } from '../helpers/eicar.js'
import { snmp, run, freeTcpPort, v3Args, parseVarbinds, num, startSnmptrapd, type LoggedDaemon, type V3Credentials } from '../helpers/snmp.js'

const monitor: V3Credentials = { user: 'monitor', auth: 'SHA-256', authKey: 'monitor-auth-key', priv: 'AES', privKey: 'monitor-priv-key' }
const legacy: V3Credentials = { user: 'legacy', auth: 'SHA', authKey: 'legacy-auth-key', priv: 'AES', privKey: 'legacy-priv-key' }
const trapCommunity = 'trap-' + randomBytes(4).toString('hex')

describe('SNMP agent of a running node, with c-icap-client, snmpget/snmpwalk and snmptrapd', function () {
  this.timeout(60_000)
  let dir: string
  let trapd: LoggedDaemon
  let trapPort: number
  let node: RunningNode
  let target: string
  let icapPort: number
  const nodeId = 'snmp-test-' + randomBytes(3).toString('hex')
  const v3 = v3Args(monitor)

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'scanwall-snmp-'))
    // The node sends SNMPv3 notifications as the authoritative engine: the receiver keys the user to it.
    const engineId = engineIdFor(nodeId, 99999).toString('hex')
    ;({ daemon: trapd, port: trapPort } = await startSnmptrapd(dir, [
      `createUser -e 0x${engineId} ${monitor.user} SHA-256 ${monitor.authKey} AES ${monitor.privKey}`,
      `authUser log ${monitor.user}`,
      `authCommunity log ${trapCommunity}`,
    ]))
    icapPort = await freeTcpPort()
    const config = loadConfig({
      env: {},
      overrides: {
        node: { id: nodeId },
        log: { level: 'silent' },
        icap: { port: icapPort },
        console: { port: 0 }, // no listener on the default port (suites run side by side)
        milter: { port: 0 },
        scan: { workers: 1, spoolDir: join(dir, 'spool') },
        snmp: {
          port: 0,
          users: [
            { name: monitor.user, authProtocol: 'sha256', authKey: monitor.authKey, privProtocol: 'aes', privKey: monitor.privKey },
            { name: legacy.user, authProtocol: 'sha', authKey: legacy.authKey, privProtocol: 'aes', privKey: legacy.privKey },
          ],
          trapTargets: [
            { host: '127.0.0.1', port: trapPort, version: 'v3', user: monitor.user },
            { host: '127.0.0.1', port: trapPort, version: 'v2c', community: trapCommunity },
          ],
          infectionTrapIntervalMs: 60_000,
        },
      },
    })
    node = await startNode(config, pino({ level: 'silent' }))
    const address = node.snmp?.agent.address
    assert.ok(address !== undefined, 'the agent listens when users are configured')
    target = `udp:${address.host}:${address.port}`
  })

  after(async () => {
    await node?.stop()
    await trapd?.stop()
    if (dir !== undefined) await rm(dir, { recursive: true, force: true })
  })

  async function getAll (names: string[], creds = v3): Promise<Map<string, string>> {
    const result = await snmp('snmpget', creds, target, names.map(n => `SCANWALL-MIB::${n}`))
    assert.equal(result.code, 0, result.stderr.slice(-500))
    return parseVarbinds(result.stdout)
  }

  it('answers snmpget by MIB name over SNMPv3 authPriv (SHA-256 + AES)', async () => {
    const got = await getAll(['swNodeId.0', 'swNodeState.0', 'swNodeVersion.0', 'swSigDbVersion.0', 'swSigCount.0', 'swPoolSize.0'])
    const pkg = JSON.parse(await readFile(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }
    assert.equal(got.get('swNodeId.0'), nodeId)
    assert.equal(got.get('swNodeState.0'), 'active(2)')
    assert.equal(got.get('swNodeVersion.0'), pkg.version)
    assert.equal(got.get('swSigDbVersion.0'), node.scan.dbVersion)
    assert.equal(num(got.get('swSigCount.0')), node.scan.signatureCount)
    assert.equal(num(got.get('swPoolSize.0')), 1)
  })

  it('answers a user with SHA-1 + AES too', async () => {
    const got = await getAll(['swNodeId.0'], v3Args(legacy))
    assert.equal(got.get('swNodeId.0'), nodeId)
  })

  it('walks every node scalar, this node\'s cluster row and the health tests by name', async () => {
    const result = await snmp('snmpwalk', v3, target, ['SCANWALL-MIB::scanwallMIB'])
    assert.equal(result.code, 0, result.stderr.slice(-500))
    const got = parseVarbinds(result.stdout)
    for (const s of scalars) assert.ok(got.has(`${s.name}.0`), `${s.name}.0 in the walk`)
    assert.equal(got.get('swClusterNodeId.1'), nodeId)
    assert.equal(got.get('swClusterState.1'), 'active(2)')
    assert.equal(got.has('swClusterNodeId.2'), false, 'a standalone node lists only itself')
    assert.equal(got.get('swHealthName.1'), 'signatures-loaded')
    assert.equal(got.get('swHealthStatus.1'), 'ok(2)')
    assert.match(got.get('swClusterLastHeartbeat.1') ?? '', /^\d{4}-\d+-\d+,/)
  })

  it('counts a known sequence of ICAP transactions (c-icap-client: N clean + M EICAR RESPMODs)', async () => {
    const names = ['swObjectsScanned.0', 'swBytesScanned.0', 'swInfections.0', 'swBlocks.0', 'swErrors.0', 'swTimeouts.0', 'swRequests.0']
    const before = await getAll(names)
    const serviceBefore = parseVarbinds((await snmp('snmpwalk', v3, target, ['SCANWALL-MIB::swServiceTable'])).stdout)
    const clean = 5
    const infected = 3
    let bytes = 0
    for (let i = 0; i < clean + infected; i++) {
      const body = i < clean ? randomBytes(3000 + 100 * i) : eicar
      const file = join(dir, `object-${i}`)
      await writeFile(file, body)
      bytes += body.length
      const result = await run('c-icap-client', ['-i', '127.0.0.1', '-p', String(icapPort), '-s', 'avscan', '-f', file])
      assert.equal(result.code, 0, result.stderr)
      if (i < clean) assert.match(result.stdout + result.stderr, /No modification needed/)
      else assert.match(result.stdout, /Eicar-Test-Signature/)
    }
    const after = await getAll(names)
    const delta = (name: string): number => num(after.get(name)) - num(before.get(name))
    assert.equal(delta('swObjectsScanned.0'), clean + infected)
    assert.equal(delta('swBytesScanned.0'), bytes)
    assert.equal(delta('swInfections.0'), infected)
    assert.equal(delta('swBlocks.0'), infected)
    assert.equal(delta('swErrors.0'), 0)
    assert.equal(delta('swTimeouts.0'), 0)
    const table = parseVarbinds((await snmp('snmpwalk', v3, target, ['SCANWALL-MIB::swServiceTable'])).stdout)
    const row = [...table.entries()].find(([k, v]) => k.startsWith('swServiceName.') && v === 'avscan')?.[0].split('.')[1]
    assert.ok(row !== undefined, 'a row for the avscan service')
    const svc = (column: string): number => num(table.get(`${column}.${row}`)) - (serviceBefore.has(`${column}.${row}`) ? num(serviceBefore.get(`${column}.${row}`)) : 0)
    assert.equal(svc('swServiceRespmod'), clean + infected)
    assert.equal(svc('swServiceReqmod'), 0)
    assert.equal(svc('swServiceClean'), clean)
    assert.equal(svc('swServiceInfected'), infected)
    assert.equal(svc('swServiceBlocked'), infected)
    assert.equal(svc('swServiceErrors'), 0)
    assert.equal(svc('swServiceBytesIn'), bytes)
    // c-icap-client asks OPTIONS before each RESPMOD; the node total is the sum over services.
    assert.equal(svc('swServiceRequests'), svc('swServiceRespmod') + svc('swServiceOptions'))
    assert.equal(delta('swRequests.0'), svc('swServiceRequests'))
    const latency = await getAll(['swLatencyAvg.0', 'swLatencyP99.0'])
    assert.ok(num(latency.get('swLatencyP99.0')) >= num(latency.get('swLatencyAvg.0')))
    assert.ok(num(latency.get('swLatencyAvg.0')) > 0)
  })

  for (const [what, creds] of [
    ['a wrong authentication key', { ...monitor, authKey: 'not-the-auth-key' }],
    ['a wrong privacy key', { ...monitor, privKey: 'not-the-priv-key' }],
    ['an unknown user', { ...monitor, user: 'intruder' }],
    ['the right user at authNoPriv', { ...monitor, level: 'authNoPriv' }],
  ] as const) {
    it(`gives no data to ${what}`, async () => {
      const result = await snmp('snmpget', v3Args(creds), target, ['SCANWALL-MIB::swNodeId.0'], true)
      assert.notEqual(result.code, 0)
      assert.doesNotMatch(result.stdout, /swNodeId|STRING/)
    })
  }

  it('gives no data over SNMPv2c when no community is configured', async () => {
    const result = await snmp('snmpget', ['-v2c', '-c', 'public'], target, ['SCANWALL-MIB::swNodeId.0'], true)
    assert.notEqual(result.code, 0)
    assert.match(result.stderr, /Timeout/)
    assert.doesNotMatch(result.stdout, /swNodeId/)
  })

  it('refuses writes: every object is read-only', async () => {
    const result = await snmp('snmpget', v3, target, ['SCANWALL-MIB::swNodeId.0'])
    assert.equal(result.code, 0)
    const { run, mibArgs } = await import('../helpers/snmp.js')
    const set = await run('snmpset', [...v3, ...mibArgs, '-t', '1', '-r', '0', target, 'SCANWALL-MIB::swNodeId.0', 's', 'pwned'])
    assert.notEqual(set.code, 0)
    assert.equal((await getAll(['swNodeId.0'])).get('swNodeId.0'), nodeId)
  })

  it('sends the start notification (starting → active) over v3 and v2c', async () => {
    const hits = await trapd.waitFor(/swNodeStateChanged.*swNodeState\.0 = INTEGER: active\(2\)/, 10_000, 2)
    assert.ok(hits.some(l => l.includes(`user ${monitor.user}`)), 'over SNMPv3')
    assert.ok(hits.some(l => l.includes(`community ${trapCommunity}`)), 'over SNMPv2c')
  })

  it('sends swInfectionDetected after an EICAR scan, over v3 and v2c', async () => {
    // The counting test above sent EICAR through ICAP: the first infection was notified at once, the
    // rest held back by the rate limit (60 s here).
    const hits = await trapd.waitFor(/swInfectionDetected.*swNotifyThreat\.0 = STRING: Eicar-Test-Signature/, 10_000, 2)
    assert.ok(hits.some(l => l.includes(`user ${monitor.user}`) && l.includes(nodeId)))
    assert.ok(hits.some(l => l.includes(`community ${trapCommunity}`)))
    assert.equal(hits.length, 2, 'rate-limited: one per target within the interval')
    assert.ok(hits.every(l => l.includes('swNotifyService.0 = STRING: avscan')), 'names the ICAP service the object came through')
  })

  it('sends swSigDbReloaded after a signature reload', async () => {
    await node.scan.reload()
    const hits = await trapd.waitFor(/swSigDbReloaded/, 10_000, 2)
    assert.ok(hits.some(l => l.includes(`swSigDbVersion.0 = STRING: ${node.scan.dbVersion}`)))
  })

  it('sends swSigDbLoadFailed when a reload fails, naming the database still in use', async () => {
    await assert.rejects(node.scan.reload(join(dir, 'no-such-signatures')))
    const hits = await trapd.waitFor(/swSigDbLoadFailed/, 10_000, 2)
    assert.ok(hits.some(l => l.includes(`swSigDbVersion.0 = STRING: ${node.scan.dbVersion}`) && l.includes('no-such-signatures')))
  })

  it('sends swNodeStateChanged (active → draining) after a drain, and serves the new state', async () => {
    node.drain()
    const hits = await trapd.waitFor(/swNodeStateChanged.*draining\(3\).*swNotifyPreviousState\.0 = INTEGER: active\(2\)/, 10_000, 2)
    assert.ok(hits.length >= 2, 'v3 and v2c')
    assert.equal((await getAll(['swNodeState.0'])).get('swNodeState.0'), 'draining(3)')
  })
})
