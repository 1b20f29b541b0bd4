/// The reset probe (src/cluster/resets.ts) against the real kernel, in the hub layout of the cluster
/// bed (CLUSTER-NOTES.md): a bridge that floods, two server namespaces with the same MAC and virtual
/// address, both listening, and a client. With one owner (the other drops new and invalid packets
/// for the virtual address, as the base table does) every connection works and neither counter
/// moves. With two owners every connection is reset and the slower owner's counter shows it.
import assert from 'node:assert/strict'
import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { sh, inNs } from './testbed.js'
import { renderResetProbe, parseResetCounter, parseResetListing, resetCounter, ResetRateDetector } from '../../src/cluster/resets.js'

const prefix = `swqr${process.pid}`
const bridge = `${prefix}-br`
const client = `${prefix}-c`
const servers = [`${prefix}-s1`, `${prefix}-s2`]
const vip = '10.216.0.100'
const mac = '02:53:57:00:01:64'
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

async function counter (ns: string): Promise<number> {
  return parseResetCounter(await inNs(ns, 'nft', '-j', 'list', 'counter', 'ip', table, resetCounter))
}

/// `times` sequential connections from the client, each sending a line and reading the answer: a tally.
async function connections (times: number): Promise<Record<string, number>> {
  return JSON.parse(await nodeIn(client, `
    import net from 'node:net'
    const tally = {}
    for (let i = 0; i < ${times}; i++) {
      const r = await new Promise(resolve => {
        const s = net.connect({ port: 1344, host: '${vip}', timeout: 1500 }, () => s.write('hi\\n'))
        let got = ''
        s.on('data', d => { got += d })
        s.on('timeout', () => { s.destroy(); resolve('timeout') })
        s.on('error', e => resolve(e.code))
        s.on('close', () => resolve(got === 'ok\\n' ? 'ok' : 'empty'))
      })
      tally[r] = (tally[r] ?? 0) + 1
    }
    console.log(JSON.stringify(tally))`)) as Record<string, number>
}

describe('reset probe: bare RSTs from the virtual address when two hosts own it (hub, network namespaces)', function () {
  this.timeout(60_000)
  const listeners: ChildProcess[] = []

  before(async () => {
    for (const ns of [bridge, client, ...servers]) await sh('ip', 'netns', 'add', ns)
    await sh('ip', '-n', bridge, 'link', 'add', 'br0', 'type', 'bridge', 'ageing_time', '0', 'stp_state', '0')
    await sh('ip', '-n', bridge, 'link', 'set', 'br0', 'up')
    await inNs(bridge, 'sh', '-c', 'for f in /proc/sys/net/bridge/bridge-nf-call-*; do [ -e "$f" ] && echo 0 > "$f"; done; true')
    const attach = async (ns: string, port: string, addrs: string[], ownMac?: string): Promise<void> => {
      await sh('ip', '-n', bridge, 'link', 'add', port, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns)
      await sh('ip', '-n', bridge, 'link', 'set', port, 'master', 'br0', 'up')
      await inNs(ns, 'sysctl', '-qw', 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1')
      if (ownMac !== undefined) await sh('ip', '-n', ns, 'link', 'set', 'eth0', 'address', ownMac)
      for (const a of addrs) await sh('ip', '-n', ns, 'addr', 'add', a, 'dev', 'eth0')
      for (const dev of ['lo', 'eth0']) await sh('ip', '-n', ns, 'link', 'set', dev, 'up')
    }
    await attach(client, 'vc', ['10.216.0.50/24'])
    for (const [i, ns] of servers.entries()) {
      await attach(ns, `vs${i + 1}`, [`10.216.0.${11 + i}/24`, `${vip}/24`], mac)
      await inNs(ns, 'sysctl', '-qw', 'net.ipv4.ip_forward=0', 'net.ipv4.conf.all.arp_announce=2', 'net.ipv4.conf.eth0.arp_announce=2', 'net.netfilter.nf_conntrack_tcp_loose=0')
      // A plain table here: the owner table of production is bound to the agent's nft session.
      await inNs(ns, 'nft', [`add table ip ${table}`, ...renderResetProbe(table, { vip, ports: [1344], buckets: 256, seed: 0x5ca11 }), `add chain ip ${table} in { type filter hook input priority 0; policy accept; }`].join('\n'))
      const listener = spawn('ip', ['netns', 'exec', ns, process.execPath, '--input-type=module', '-e', `
        import net from 'node:net'
        net.createServer(s => { s.on('error', () => {}); s.on('data', () => s.end('ok\\n')) }).listen(1344, '${vip}', () => console.log('up'))`], { stdio: ['ignore', 'pipe', 'inherit'] })
      listeners.push(listener)
      await once(listener.stdout!, 'data')
    }
  })

  after(async () => {
    for (const l of listeners) l.kill('SIGKILL')
    for (const ns of [bridge, client, ...servers]) await sh('ip', 'netns', 'del', ns).catch(() => '')
  })

  it('one owner: every connection works and no bare reset is counted', async () => {
    // s2 is a non-owner: it drops new connections and mid-stream packets it has no state for.
    await inNs(servers[1]!, 'nft', `add rule ip ${table} in ip daddr ${vip} tcp dport 1344 ct state new,invalid drop`)
    const before = await Promise.all(servers.map(counter))
    assert.deepEqual(await connections(30), { ok: 30 })
    assert.deepEqual(await Promise.all(servers.map(counter)), before)
  })

  it('two owners: connections are reset, and the owner that lost the race counts bare resets', async () => {
    await inNs(servers[1]!, 'nft', `flush chain ip ${table} in`)
    const before = await Promise.all(servers.map(counter))
    const tally = await connections(30)
    const counted = (await Promise.all(servers.map(counter))).map((n, i) => n - (before[i] ?? 0))
    console.log(`      two owners: ${JSON.stringify(tally)}; bare resets counted: s1 ${counted[0]}, s2 ${counted[1]}`)
    assert.ok((tally['ok'] ?? 0) < 30, 'no connection failed with two owners: the bed does not reproduce the symptom')
    assert.ok(counted.reduce((a, b) => a + b, 0) >= 30 - (tally['ok'] ?? 0), `failures ${30 - (tally['ok'] ?? 0)}, bare resets ${counted.join('+')}`)
    // The text listing the agent reads (netfilter.ts): the same count, and the buckets of the resets.
    const listed = await Promise.all(servers.map(async ns => parseResetListing(await inNs(ns, 'nft', 'list', 'table', 'ip', table))))
    console.log(`      listed: ${listed.map(l => `${l.packets} resets, buckets ${l.buckets.join(',')}`).join('; ')}`)
    for (const [i, l] of listed.entries()) {
      assert.equal(l.packets, (before[i] ?? 0) + (counted[i] ?? 0))
      assert.equal(l.buckets.length > 0, (counted[i] ?? 0) > 0, 'a server that sent bare resets lists their buckets (and only such a server)')
      assert.ok(l.buckets.every(b => b >= 0 && b < 256))
    }
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
