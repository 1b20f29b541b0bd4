import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { createSocket } from 'node:dgram'
import { once } from 'node:events'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pino } from 'pino'
import { loadConfig } from '../../config/load.js'
import { startNode, type RunningNode } from '../../src/node.js'
import { engineIdFor } from '../../protocols/snmp/engine-id.js'
import { TrapSender } from '../../protocols/snmp/traps.js'
import { Metrics } from '../../src/metrics.js'
import type { HealthRow, HealthView } from '../../src/cluster/view.js'
import { snmp, run, v3Args, parseVarbinds, freeUdpPort, startSnmptrapd, type V3Credentials } from '../helpers/snmp.js'

const silent = pino({ level: 'silent' })

/// A trap sender to one SNMPv2c target (snmptrapd on 127.0.0.1) with the given sources and timings.
function v2cSender (nodeId: string, port: number, community: string, sources: { metrics: Metrics, health: HealthView }, timing: { infectionIntervalMs: number, healthPollMs: number }): TrapSender {
  return new TrapSender({
    nodeId,
    enterpriseOid: '1.3.6.1.4.1.99999',
    engineId: engineIdFor(nodeId, 99999),
    targets: [{ host: '127.0.0.1', port, version: 'v2c', community }],
    users: [],
    ...timing,
  }, { ...sources, scan: { dbVersion: 'x', signatureCount: 1 } }, silent)
}
const monitor: V3Credentials = { user: 'monitor', auth: 'SHA-256', authKey: 'monitor-auth-key', priv: 'AES', privKey: 'monitor-priv-key' }
const monitorConfig = { name: 'monitor', authProtocol: 'sha256', authKey: monitor.authKey, privProtocol: 'aes', privKey: monitor.privKey }

async function nodeWith (dir: string, nodeId: string, snmpOverrides: Record<string, unknown>): Promise<RunningNode> {
  const config = loadConfig({ env: {}, overrides: { node: { id: nodeId }, icap: { port: 0 }, clamd: { port: 0 }, milter: { port: 0 }, console: { port: 0 }, scan: { workers: 1, spoolDir: join(dir, 'spool') }, snmp: snmpOverrides } })
  return await startNode(config, silent)
}

describe('SNMP access policy, engine ID and notification logic', function () {
  this.timeout(60_000)
  let dir: string
  before(async () => { dir = await mkdtemp(join(tmpdir(), 'scanwall-snmp-access-')) })
  after(async () => { await rm(dir, { recursive: true, force: true }) })

  it('by default has no user and no community, and then opens no socket at all', async () => {
    const defaults = loadConfig({ env: {} })
    assert.equal(defaults.snmp.enabled, true)
    assert.deepEqual(defaults.snmp.users, [])
    assert.equal(defaults.snmp.community, '')
    const port = await freeUdpPort()
    const node = await nodeWith(dir, 'no-credentials', { port })
    try {
      assert.equal(node.snmp?.agent.mode, 'off')
      assert.equal(node.snmp?.agent.address, undefined)
      const v2c = await snmp('snmpget', ['-v2c', '-c', 'public'], `udp:127.0.0.1:${port}`, ['SCANWALL-MIB::swNodeId.0'], true)
      assert.match(v2c.stderr, /Timeout/)
      const v3 = await snmp('snmpget', v3Args(monitor), `udp:127.0.0.1:${port}`, ['SCANWALL-MIB::swNodeId.0'], true)
      assert.notEqual(v3.code, 0)
      // Nothing holds the port: we can bind it ourselves.
      const probe = createSocket('udp4')
      probe.bind(port, '127.0.0.1')
      await once(probe, 'listening')
      await new Promise<void>(resolve => probe.close(() => resolve()))
    } finally {
      await node.stop()
    }
  })

  it('answers SNMPv2c only with the configured community, and then no SNMPv3 user', async () => {
    const community = 'c-' + randomBytes(6).toString('hex')
    const node = await nodeWith(dir, 'v2c-only', { port: 0, community })
    try {
      const target = `udp:127.0.0.1:${node.snmp?.agent.address?.port}`
      const ok = await snmp('snmpget', ['-v2c', '-c', community], target, ['SCANWALL-MIB::swNodeId.0'])
      assert.equal(parseVarbinds(ok.stdout).get('swNodeId.0'), 'v2c-only')
      const wrong = await snmp('snmpget', ['-v2c', '-c', 'public'], target, ['SCANWALL-MIB::swNodeId.0'], true)
      assert.match(wrong.stderr, /Timeout/)
      const v3 = await snmp('snmpget', v3Args(monitor), target, ['SCANWALL-MIB::swNodeId.0'], true)
      assert.notEqual(v3.code, 0)
      assert.doesNotMatch(v3.stdout, /swNodeId/)
    } finally {
      await node.stop()
    }
  })

  it('uses an engine ID derived from the node id (snmpget -e with it works, with another node\'s fails)', async () => {
    const node = await nodeWith(dir, 'engine-a', { port: 0, users: [monitorConfig] })
    try {
      assert.deepEqual(node.snmp?.agent.engineId, engineIdFor('engine-a', 99999))
      const target = `udp:127.0.0.1:${node.snmp?.agent.address?.port}`
      const own = await snmp('snmpget', ['-e', `0x${engineIdFor('engine-a', 99999).toString('hex')}`, ...v3Args(monitor)], target, ['SCANWALL-MIB::swNodeId.0'])
      assert.equal(parseVarbinds(own.stdout).get('swNodeId.0'), 'engine-a')
      const other = await snmp('snmpget', ['-e', `0x${engineIdFor('engine-b', 99999).toString('hex')}`, ...v3Args(monitor)], target, ['SCANWALL-MIB::swNodeId.0'], true)
      assert.notEqual(other.code, 0)
      assert.doesNotMatch(other.stdout, /swNodeId/)
    } finally {
      await node.stop()
    }
  })

  it('fails the node start with the bind error when the SNMP port is taken', async () => {
    const holder = createSocket('udp4')
    holder.bind(0, '127.0.0.1')
    await once(holder, 'listening')
    try {
      await assert.rejects(nodeWith(dir, 'port-taken', { port: holder.address().port, users: [monitorConfig] }), /EADDRINUSE/)
    } finally {
      await new Promise<void>(resolve => holder.close(() => resolve()))
    }
  })

  it('`scanwall start` refuses a trap target naming an unknown user with one config line, exit 78', async () => {
    const file = join(dir, 'bad-trap-user.json')
    await writeFile(file, JSON.stringify({
      log: { level: 'silent' },
      icap: { port: 0 },
      console: { port: 0 }, // no listener on the default port (suites run side by side)
      milter: { port: 0 },
      scan: { workers: 1, spoolDir: join(dir, 'spool') },
      snmp: { port: 0, users: [monitorConfig], trapTargets: [{ host: '127.0.0.1', port: 162, version: 'v3', user: 'nobody' }] },
    }))
    const main = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url))
    const result = await run(process.execPath, [main, 'start', '--config', file])
    assert.equal(result.code, 78)
    assert.match(result.stderr, /^scanwall: config: snmp\.trapTargets: .*'nobody'.*\n$/)
  })

  it('sends swHealthTestFailed and swHealthTestRecovered as a health test flips (SNMPv2c target)', async () => {
    const community = 'h-' + randomBytes(4).toString('hex')
    const { port, daemon } = await startSnmptrapd(dir, [`authCommunity log ${community}`])
    let status: HealthRow['status'] = 'ok'
    const health: HealthView = { tests: () => [{ name: 'upstream-dns', status, lastRun: Date.now(), output: status === 'ok' ? 'resolves' : 'SERVFAIL' }] }
    const metrics = new Metrics()
    const sender = v2cSender('health-node', port, community, { metrics, health }, { infectionIntervalMs: 1000, healthPollMs: 50 })
    try {
      sender.start()
      await new Promise(resolve => setTimeout(resolve, 200))
      assert.deepEqual(await daemon.lines(/swHealthTest/), [], 'a passing test sends nothing')
      status = 'failed'
      const failed = await daemon.waitFor(/swHealthTestFailed.*upstream-dns.*SERVFAIL/)
      assert.equal(failed.length, 1)
      status = 'ok'
      await daemon.waitFor(/swHealthTestRecovered.*upstream-dns.*resolves/)
      await new Promise(resolve => setTimeout(resolve, 200))
      assert.equal((await daemon.lines(/swHealthTestFailed/)).length, 1, 'one notification per change, not per poll')
    } finally {
      await sender.close()
      await daemon.stop()
    }
  })

  it('sends swHealthTestFailed when a subscribable health view (the cluster\'s tests) says a result changed, without waiting for a poll', async () => {
    const community = 's-' + randomBytes(4).toString('hex')
    const { port, daemon } = await startSnmptrapd(dir, [`authCommunity log ${community}`])
    let status: HealthRow['status'] = 'ok'
    const listeners = new Set<() => void>()
    const health: HealthView = {
      tests: () => [{ name: 'marker', status, lastRun: Date.now(), output: status === 'ok' ? 'exit 0' : 'exit 1' }],
      subscribe: listener => { listeners.add(listener); return () => { listeners.delete(listener) } },
    }
    // No poll within this test: only the change event can make the notification.
    const sender = v2cSender('event-node', port, community, { metrics: new Metrics(), health }, { infectionIntervalMs: 1000, healthPollMs: 600_000 })
    try {
      sender.start()
      assert.equal(listeners.size, 1)
      status = 'failed'
      for (const listener of listeners) listener()
      await daemon.waitFor(/swHealthTestFailed.*marker.*exit 1/)
    } finally {
      await sender.close()
      await daemon.stop()
    }
    assert.equal(listeners.size, 0, 'close() did not unsubscribe')
  })

  it('rate-limits swInfectionDetected: the first at once, then one per interval counting those held back', async () => {
    const community = 'r-' + randomBytes(4).toString('hex')
    const { port, daemon } = await startSnmptrapd(dir, [`authCommunity log ${community}`])
    const metrics = new Metrics()
    const health: HealthView = { tests: () => [] }
    const sender = v2cSender('rate-node', port, community, { metrics, health }, { infectionIntervalMs: 500, healthPollMs: 60_000 })
    try {
      sender.start()
      for (const threat of ['T1', 'T2', 'T3', 'T4']) {
        metrics.infections++
        metrics.events.emit('infection', { threat, service: 'avscan' })
      }
      const traps = await daemon.waitFor(/swInfectionDetected/, 10_000, 2)
      assert.match(traps[0] ?? '', /swNotifyThreat\.0 = STRING: T1.*swNotifyService\.0 = STRING: avscan.*swNotifySuppressed\.0 = Gauge32: 0/)
      assert.match(traps[1] ?? '', /swNotifyThreat\.0 = STRING: T4.*swNotifySuppressed\.0 = Gauge32: 2.*swInfections\.0 = Counter64: 4/)
      await new Promise(resolve => setTimeout(resolve, 700))
      assert.equal((await daemon.lines(/swInfectionDetected/)).length, 2, 'nothing more once the burst is reported')
    } finally {
      await sender.close()
      await daemon.stop()
    }
  })
})
