/// Who may connect (issue #12 item 6; milter.allow, issue #13): a running node whose ICAP, clamd
/// and milter listeners allow only 127.0.0.1. A client connecting from 127.0.0.2 (another loopback
/// source address) is closed before a byte is read and gets nothing; 127.0.0.1 is served. The refusals are counted (metrics, SNMP
/// swConnectionsDenied read with snmpget) and logged once per window, and a bad network in the
/// list stops start-up with one line naming the key.
import assert from 'node:assert/strict'
import { connect, type Socket } from 'node:net'
import { once } from 'node:events'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pino } from 'pino'
import { loadConfig } from '../../config/load.js'
import { startNode, type RunningNode } from '../../src/node.js'
import { snmp, freeTcpPort, parseVarbinds, num } from '../helpers/snmp.js'
import { mta } from '../helpers/milter-client.js'

/// Connects from `source`, writes `request`, and returns what came back before the server closed.
async function exchange (port: number, source: string, request: string | Buffer): Promise<{ reply: string, closedByServer: boolean }> {
  const socket: Socket = connect({ host: '127.0.0.1', port, localAddress: source })
  let reply = ''
  socket.on('data', (chunk: Buffer) => { reply += chunk.toString('latin1') })
  socket.on('error', () => {})
  await once(socket, 'connect')
  socket.write(request)
  const closed = once(socket, 'close').then(() => true)
  const gaveUp = new Promise<boolean>(resolve => setTimeout(() => resolve(false), 3_000))
  const closedByServer = await Promise.race([closed, gaveUp])
  socket.destroy()
  return { reply, closedByServer }
}

const options = 'OPTIONS icap://127.0.0.1/avscan ICAP/1.0\r\nHost: 127.0.0.1\r\nEncapsulated: null-body=0\r\n\r\n'

describe('listener allow lists: a client outside icap.allow / clamd.allow / milter.allow is closed at accept', function () {
  this.timeout(60_000)
  let dir = ''
  let node: RunningNode | undefined
  let icapPort = 0
  let clamdPort = 0
  let milterPort = 0
  const lines: Array<Record<string, unknown>> = []

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'scanwall-allow-'))
    icapPort = await freeTcpPort()
    clamdPort = await freeTcpPort()
    milterPort = await freeTcpPort()
    const config = loadConfig({
      env: {},
      overrides: {
        node: { id: 'allow-test' },
        icap: { port: icapPort, allow: ['127.0.0.1/32', '::1'] },
        console: { port: 0 }, // no listener on the default port (suites run side by side)
        milter: { port: milterPort, allow: ['127.0.0.1/32'] },
        clamd: { port: clamdPort, allow: ['127.0.0.1'] },
        scan: { workers: 1, spoolDir: join(dir, 'spool') },
        stats: { enabled: false },
        snmp: { port: 0, community: 'allow-test' },
      },
    })
    const log = pino({ level: 'warn' }, { write: (line: string) => { lines.push(JSON.parse(line) as Record<string, unknown>) } })
    node = await startNode(config, log)
  })

  after(async () => {
    await node?.stop()
    if (dir !== '') await rm(dir, { recursive: true, force: true })
  })

  it('ICAP: 127.0.0.2 is closed without an answer; 127.0.0.1 is answered', async () => {
    const denied = await exchange(icapPort, '127.0.0.2', options)
    assert.equal(denied.reply, '', 'not a byte of answer')
    assert.ok(denied.closedByServer, 'the server closed the connection')
    const allowed = await exchange(icapPort, '127.0.0.1', options)
    assert.match(allowed.reply, /^ICAP\/1\.0 200 OK\r\n/)
  })

  it('clamd: 127.0.0.2 is closed without an answer; 127.0.0.1 gets PONG', async () => {
    const denied = await exchange(clamdPort, '127.0.0.2', 'zPING\0')
    assert.equal(denied.reply, '')
    assert.ok(denied.closedByServer)
    const allowed = await exchange(clamdPort, '127.0.0.1', 'zPING\0')
    assert.equal(allowed.reply, 'PONG\0')
  })

  it('milter: 127.0.0.2 is closed without an answer; 127.0.0.1 gets the negotiation reply', async () => {
    const denied = await exchange(milterPort, '127.0.0.2', mta.optneg())
    assert.equal(denied.reply, '')
    assert.ok(denied.closedByServer)
    // The MTA's quit after the negotiation makes the server close, so the exchange ends at once.
    const allowed = await exchange(milterPort, '127.0.0.1', Buffer.concat([mta.optneg(), mta.quit()]))
    assert.equal(allowed.reply.charCodeAt(4), 0x4f, 'an option negotiation packet (O) came back')
  })

  it('counts the refusals (SNMP swConnectionsDenied) and logs them, rate-limited', async () => {
    assert.ok(node !== undefined)
    await exchange(icapPort, '127.0.0.3', options)
    assert.equal(node.metrics.connectionsDenied, 4)
    const address = node.snmp?.agent.address
    assert.ok(address !== undefined)
    const result = await snmp('snmpget', ['-v2c', '-c', 'allow-test'], `udp:${address.host}:${address.port}`, ['SCANWALL-MIB::swConnectionsDenied.0'])
    assert.equal(result.code, 0, result.stderr)
    assert.equal(num(parseVarbinds(result.stdout).get('swConnectionsDenied.0')), 4)
    const refusals = lines.filter(l => l['msg'] === 'connection refused: client not in the allow list')
    assert.deepEqual(refusals.map(l => [l['listener'], l['client']]), [['icap', '127.0.0.2'], ['clamd', '127.0.0.2'], ['milter', '127.0.0.2']], 'one line per listener per window: the fourth refusal (icap again) is counted, not logged')
  })

  it('refuses a bad network at start with one line naming the key', () => {
    assert.throws(() => loadConfig({ env: {}, overrides: { icap: { allow: ['10.0.0.0/33'] } } }), /icap\.allow.*prefix length must be 0 to 32/)
    assert.throws(() => loadConfig({ env: { SCANWALL_CLAMD_ALLOW: '127.0.0.1,nonsense' } }), /clamd\.allow.*"nonsense" is not an IPv4 or IPv6 address/)
    assert.throws(() => loadConfig({ env: { SCANWALL_MILTER_ALLOW: '10.0.0.1/40' } }), /milter\.allow.*prefix length must be 0 to 32/)
  })
})
