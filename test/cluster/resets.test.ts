/// The reset probe (src/cluster/resets.ts) against the real kernel: a server namespace holding the
/// virtual address with the probe's counter, a client namespace connecting to it. A reset on a
/// handshake that never completed (here: a port of the cluster without a listener, the same reply
/// the slower of two owners gives) is counted; a normal close and a reset of an accepted
/// connection are not.
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { sh, inNs } from './testbed.js'
import { renderResetProbe, parseResetCounter, ResetRateDetector } from '../../src/cluster/resets.js'

const prefix = `swqr${process.pid}`
const server = `${prefix}-s`
const client = `${prefix}-c`
const vip = '10.216.0.100'
const table = 'swqprobe'

/// Runs a small Node program in a namespace and returns its stdout.
async function nodeIn (ns: string, program: string): Promise<string> {
  const proc = spawn('ip', ['netns', 'exec', ns, process.execPath, '--input-type=module', '-e', program], { stdio: ['ignore', 'pipe', 'inherit'] })
  let out = ''
  proc.stdout.setEncoding('utf8')
  proc.stdout.on('data', (d: string) => { out += d })
  const [code] = await once(proc, 'exit') as [number]
  assert.equal(code, 0, `program in ${ns} failed`)
  return out
}

async function counter (): Promise<number> {
  return parseResetCounter(await inNs(server, 'nft', '-j', 'list', 'counter', 'ip', table, 'handshake_resets'))
}

describe('reset probe: RSTs for handshakes that never completed (network namespaces)', function () {
  this.timeout(60_000)
  let listener: ReturnType<typeof spawn> | undefined

  before(async () => {
    await sh('ip', 'netns', 'add', server)
    await sh('ip', 'netns', 'add', client)
    await sh('ip', '-n', server, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', client)
    await sh('ip', '-n', server, 'addr', 'add', '10.216.0.1/24', 'dev', 'eth0')
    await sh('ip', '-n', server, 'addr', 'add', `${vip}/24`, 'dev', 'eth0')
    await sh('ip', '-n', client, 'addr', 'add', '10.216.0.2/24', 'dev', 'eth0')
    for (const ns of [server, client]) for (const dev of ['lo', 'eth0']) await sh('ip', '-n', ns, 'link', 'set', dev, 'up')
    // A plain table here: the owner table of production is bound to the agent's nft session.
    await inNs(server, 'nft', [`add table ip ${table}`, ...renderResetProbe(table, { vip, ports: [1344, 1345] })].join('\n'))
    // A listener on 1344 that answers one line and, on "reset", resets the accepted connection.
    listener = spawn('ip', ['netns', 'exec', server, process.execPath, '--input-type=module', '-e', `
      import net from 'node:net'
      net.createServer(s => s.on('data', d => String(d).includes('reset') ? s.resetAndDestroy() : s.end('ok\\n'))).listen(1344, '${vip}', () => console.log('up'))`], { stdio: ['ignore', 'pipe', 'inherit'] })
    await once(listener.stdout!, 'data')
  })

  after(async () => {
    listener?.kill('SIGKILL')
    for (const ns of [server, client]) await sh('ip', 'netns', 'del', ns).catch(() => '')
  })

  const connect = (port: number, send: string, times: number): string => `
    import net from 'node:net'
    const results = []
    for (let i = 0; i < ${times}; i++) {
      results.push(await new Promise(resolve => {
        const s = net.connect(${port}, '${vip}', () => s.write('${send}\\n'))
        s.on('error', e => resolve(e.code))
        s.on('data', () => {})
        s.on('close', () => resolve('closed'))
      }))
    }
    console.log(results.join(','))`

  it('counts a reset for each handshake the node refused, and nothing for accepted connections', async () => {
    const start = await counter()
    assert.equal(await nodeIn(client, connect(1344, 'hello', 5)), 'closed,closed,closed,closed,closed\n')
    assert.equal(await nodeIn(client, connect(1344, 'reset', 3)), 'ECONNRESET,ECONNRESET,ECONNRESET\n')
    assert.equal(await counter() - start, 0, 'resets of accepted connections or normal closes were counted')
    assert.equal(await nodeIn(client, connect(1345, 'x', 4)), 'ECONNREFUSED,ECONNREFUSED,ECONNREFUSED,ECONNREFUSED\n')
    assert.equal(await counter() - start, 4)
  })

  it('the detector speaks only when the rate stays above its threshold', () => {
    const d = new ResetRateDetector({ perSecond: 5, sustainMs: 500 })
    assert.deepEqual(d.sample(0, 0), { suspect: false })
    assert.deepEqual(d.sample(20, 250), { suspect: false }, 'the first sample above the rate started the clock')
    assert.deepEqual(d.sample(21, 500), { suspect: false }, 'a slow stretch reset it')
    d.sample(40, 750)
    d.sample(60, 1000)
    assert.deepEqual(d.sample(80, 1250), { suspect: true, perSecond: 80, sinceMs: 500 })
    assert.deepEqual(d.sample(3, 1500), { suspect: false }, 'a re-created counter restarts the rate')
  })
})
