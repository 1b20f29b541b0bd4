import assert from 'node:assert/strict'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pino } from 'pino'
import { ClusterRuntime, type ClusterHooks } from '../../../src/cluster/runtime.js'
import { parseInstances } from '../../../src/cluster/config.js'
import { heartbeatChannels } from '../../../protocols/cluster/channel.js'
import { renderBase, renderOwned } from '../../../src/cluster/netfilter.js'

const hooks: ClusterHooks = {
  drainIcap: () => {},
  resumeIcap: () => {},
  nodeState: () => {},
  connections: () => 0,
  onConnections: () => () => {},
  load: () => ({ cpu: 0, memory: 0, queue: 0, poolBusy: 0 }),
  signatureVersion: () => 'sig',
  health: { icap: { host: '127.0.0.1', port: 1, service: 'avscan' }, poolProbe: async () => ({ ok: true, detail: 'answered' }), spoolDir: tmpdir(), signaturesDir: tmpdir() },
}

describe('cluster runtime', () => {
  it('runs standalone, with one log line, when nftables cannot be used', async () => {
    const lines: string[] = []
    const log = pino({ level: 'info' }, { write: (line: string) => { lines.push(line) } })
    const instances = parseInstances([{ vip: '10.213.0.100', bind: '127.0.0.1:0' }])
    const dir = mkdtempSync(join(tmpdir(), 'scanwall-runtime-'))
    const runtime = await ClusterRuntime.start({ nodeId: 'x', instances, key: Buffer.from('a-key-of-16-chars-or-more'), controlSocket: join(dir, 'c.sock'), nft: '/nonexistent/nft', configVersion: 'v' },
      hooks, heartbeatChannels('x', log), log)
    assert.equal(runtime, undefined)
    const standalone = lines.filter(l => l.includes('running standalone'))
    assert.equal(standalone.length, 1)
  })

  it('keeps split per-service clusters apart: own VIP, ports, heartbeat group and tables', () => {
    const [web, mail] = parseInstances([
      { name: 'web', vip: '10.213.0.100', ports: [1344], services: ['avscan'], bind: '10.0.0.1:5405' },
      { name: 'mail', vip: '10.213.0.101', ports: [3310], services: ['clamd'], bind: '10.0.0.1:5406' },
    ])
    assert.ok(web !== undefined && mail !== undefined)
    const filter = (i: typeof web) => ({ name: i.name, vip: i.vip, ports: i.ports, buckets: i.buckets, seed: i.seed, mark: i.mark, mode: i.mode, clusterMac: i.clusterMac, nft: 'nft' })
    assert.match(renderBase(filter(web)), /scanwall_base_web[\s\S]*10\.213\.0\.100 tcp dport \{ 1344 \}/)
    assert.match(renderOwned(filter(mail), [1]), /^flush chain ip scanwall_mail in; .*10\.213\.0\.101 tcp dport \{ 3310 \}/)
    assert.notEqual(web.bind.port, mail.bind.port)
  })
})
