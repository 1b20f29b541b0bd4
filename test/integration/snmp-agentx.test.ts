import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pino } from 'pino'
import { loadConfig } from '../../config/load.js'
import { startNode, type RunningNode } from '../../src/node.js'
import { eicar } from '../helpers/eicar.js'
import { snmp, v3Args, parseVarbinds, num, freeTcpPort, freeUdpPort, startSnmptrapd, LoggedDaemon, type V3Credentials } from '../helpers/snmp.js'
import { testNodeConfig } from '../helpers/node-config.js'

const reader: V3Credentials = { user: 'axreader', auth: 'SHA-256', authKey: 'axreader-auth-key', priv: 'AES', privKey: 'axreader-priv-key' }

describe('SNMP AgentX sub-agent under the system snmpd', function () {
  this.timeout(60_000)
  let dir: string
  let snmpd: LoggedDaemon
  let trapd: LoggedDaemon
  let node: RunningNode
  let target: string
  const community = 'ax-' + randomBytes(4).toString('hex')

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'scanwall-agentx-'))
    const trap = await startSnmptrapd(dir, [`authCommunity log ${community}`])
    trapd = trap.daemon
    const agentxPort = await freeTcpPort()
    const udpPort = await freeUdpPort()
    target = `udp:127.0.0.1:${udpPort}`
    // snmpd does the authentication (its own USM user) and forwards our region to the sub-agent.
    snmpd = await LoggedDaemon.start('snmpd', dir, [
      'master agentx',
      `agentXSocket tcp:127.0.0.1:${agentxPort}`,
      `agentaddress udp:127.0.0.1:${udpPort}`,
      `createUser ${reader.user} SHA-256 ${reader.authKey} AES ${reader.privKey}`,
      `rouser ${reader.user} priv`,
      `trap2sink 127.0.0.1:${trap.port} ${community}`,
    ], ['-M', '/dev/null', '-m', ''])
    const config = loadConfig({
      env: {},
      overrides: {
        ...testNodeConfig(dir, 'agentx-node'),
        snmp: { agentx: { enabled: true, host: '127.0.0.1', port: agentxPort } },
      },
    })
    node = await startNode(config, pino({ level: 'silent' }))
  })

  after(async () => {
    await node?.stop()
    await snmpd?.stop()
    await trapd?.stop()
    if (dir !== undefined) await rm(dir, { recursive: true, force: true })
  })

  it('registers SCANWALL-MIB with snmpd and serves it through snmpd\'s SNMPv3', async () => {
    assert.equal(node.snmp?.agent.mode, 'agentx')
    const sink = node.scan.openSink()
    await sink.write(eicar)
    assert.equal((await node.scan.scan(await sink.finish(), { service: 'test' }, new AbortController().signal)).verdict.status, 'infected')
    const result = await snmp('snmpwalk', v3Args(reader), target, ['SCANWALL-MIB::scanwallMIB'])
    assert.equal(result.code, 0, result.stderr.slice(-500))
    const got = parseVarbinds(result.stdout)
    assert.equal(got.get('swNodeId.0'), 'agentx-node')
    assert.equal(got.get('swNodeState.0'), 'active(2)')
    assert.equal(num(got.get('swInfections.0')), 1, 'the one EICAR scanned above')
    assert.equal(num(got.get('swBytesScanned.0')), eicar.length)
    assert.match(got.get('swSigDbDate.0') ?? '', /^\d{4}-\d+-\d+,\d+:\d+:\d+\.\d,\+0:0$/, 'binary DateAndTime survives AgentX')
    assert.equal(got.get('swClusterNodeId.1'), 'agentx-node')
  })

  it('sends notifications through snmpd to its trap sinks', async () => {
    const hits = await trapd.waitFor(/swInfectionDetected.*Eicar-Test-Signature/)
    assert.ok(hits.some(l => l.includes('swNodeId.0 = STRING: agentx-node')))
  })
})
