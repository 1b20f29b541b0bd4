/// Quorum over real heartbeats and real firewalls (issue #17), at the membership level: three (or
/// two plus a witness) membership-only nodes (quorum-node.ts) in network namespaces, two bridges (the
/// service network and a dedicated `ring1` link), heartbeats on UDP 5405 cut with nftables in one
/// node's namespace, both ways and one way. What is asserted is what the agent will act on in
/// phase 2: which node fences (releases every bucket) and when, against the moment the others may
/// take its buckets (`ready`), and that nothing changes for the others and after the heal.
import assert from 'node:assert/strict'
import { spawn, type ChildProcess } from 'node:child_process'
import { writeFileSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { sh, inNs } from './testbed.js'
import type { NodeSpec } from './quorum-node.js'

const repo = fileURLToPath(new URL('../../..', import.meta.url))
const driver = join(repo, 'dist/test/cluster/quorum-node.js')
const key = 'quorum-bed-key-0123456789'
const timing = { intervalMs: 100, suspectMs: 250, deadMs: 500, graceMs: 50 }
const sleep = async (ms: number): Promise<void> => { await new Promise(resolve => setTimeout(resolve, ms)) }

interface Line { t: number, action: 'serve' | 'hold' | 'fence', state: string, partition: string[], by: string | null, ready: boolean, why: string[] }

class Node {
  readonly lines: Line[] = []
  proc: ChildProcess | undefined
  constructor (readonly id: string, readonly ns: string, readonly ip: string, readonly ring: string) {}
  get last (): Line | undefined { return this.lines.at(-1) }
  since (t: number): Line[] { return this.lines.filter(l => l.t >= t) }
}

/// Namespaces swq<pid>-*: a bridge namespace with br0 (service, 10.214.1.0/24) and br1 (ring1,
/// 10.214.2.0/24), node namespaces with eth0 and eth1, and a witness namespace on br0.
class QuorumBed {
  readonly prefix = `swq${process.pid}`
  readonly dir = mkdtempSync(join(tmpdir(), `scanwall-quorum-${process.pid}-`))
  readonly nodes: Node[]
  readonly witnessNs = `${this.prefix}-w`
  readonly witnessIp = '10.214.1.50'
  witness: ChildProcess | undefined

  constructor (ids: string[]) {
    this.nodes = ids.map((id, i) => new Node(id, `${this.prefix}-${id}`, `10.214.1.${11 + i}`, `10.214.2.${11 + i}`))
  }

  async build (): Promise<void> {
    const br = `${this.prefix}-br`
    for (const ns of [br, this.witnessNs, ...this.nodes.map(n => n.ns)]) await sh('ip', 'netns', 'add', ns)
    for (const b of ['br0', 'br1']) {
      await sh('ip', '-n', br, 'link', 'add', b, 'type', 'bridge', 'stp_state', '0')
      await sh('ip', '-n', br, 'link', 'set', b, 'up')
    }
    await inNs(br, 'sh', '-c', 'for f in /proc/sys/net/bridge/bridge-nf-call-*; do [ -e "$f" ] && echo 0 > "$f"; done; true')
    let port = 0
    const attach = async (ns: string, bridge: string, dev: string, addr: string): Promise<void> => {
      const name = `vq${++port}`
      await sh('ip', '-n', br, 'link', 'add', name, 'type', 'veth', 'peer', 'name', dev, 'netns', ns)
      await sh('ip', '-n', br, 'link', 'set', name, 'master', bridge, 'up')
      await sh('ip', '-n', ns, 'addr', 'add', `${addr}/24`, 'dev', dev)
      await sh('ip', '-n', ns, 'link', 'set', dev, 'up')
      await sh('ip', '-n', ns, 'link', 'set', 'lo', 'up')
    }
    for (const n of this.nodes) {
      await attach(n.ns, 'br0', 'eth0', n.ip)
      await attach(n.ns, 'br1', 'eth1', n.ring)
    }
    await attach(this.witnessNs, 'br0', 'eth0', this.witnessIp)
  }

  start (n: Node, options: { multicast: boolean, ring1: boolean, witness: boolean }): void {
    const others = this.nodes.filter(o => o !== n)
    const paths: NodeSpec['paths'] = [options.multicast
      ? { name: 'service', bind: { host: n.ip, port: 5405 }, peers: [], multicast: { host: '239.214.1.1', port: 5405 } }
      : { name: 'service', bind: { host: n.ip, port: 5405 }, peers: others.map(o => ({ host: o.ip, port: 5405 })) }]
    if (options.ring1) paths.push({ name: 'ring1', bind: { host: n.ring, port: 5405 }, peers: others.map(o => ({ host: o.ring, port: 5405 })) })
    const spec: NodeSpec = { id: n.id, voters: this.nodes.map(o => o.id), key, ...timing, paths, ...(options.witness ? { witness: { host: this.witnessIp, port: 5409 } } : {}) }
    const proc = spawn('ip', ['netns', 'exec', n.ns, 'nice', '-n', '-10', process.execPath, driver, JSON.stringify(spec)], { stdio: ['ignore', 'pipe', 'inherit'] })
    let buf = ''
    proc.stdout.setEncoding('utf8')
    proc.stdout.on('data', (d: string) => {
      buf += d
      let nl
      while ((nl = buf.indexOf('\n')) >= 0) {
        n.lines.push(JSON.parse(buf.slice(0, nl)) as Line)
        buf = buf.slice(nl + 1)
      }
    })
    n.proc = proc
  }

  /// Starts `scanwall witness` and returns once it votes (it is silent for one lease after start).
  async startWitness (): Promise<void> {
    const keyFile = join(this.dir, 'key')
    writeFileSync(keyFile, key)
    const proc = spawn('ip', ['netns', 'exec', this.witnessNs, process.execPath, join(repo, 'dist/src/cli/main.js'), 'witness', '--listen', `${this.witnessIp}:5409`, '--key-file', keyFile, '--lease-ms', '1000'], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, LOG_LEVEL: 'silent' } })
    this.witness = proc
    let out = ''
    proc.stdout.setEncoding('utf8')
    proc.stdout.on('data', (d: string) => { out += d })
    await this.until(() => out.includes('listening'), 10_000, 'witness start')
    await sleep(1100)
  }

  /// Drops heartbeats (UDP 5405) on one node's `dev`: `in`, `out` or both ways.
  async cut (n: Node, way: 'both' | 'out' | 'in', dev = 'eth0'): Promise<void> {
    const rules = []
    if (way !== 'out') rules.push(`add rule inet swcut in iifname ${dev} udp dport 5405 drop`)
    if (way !== 'in') rules.push(`add rule inet swcut out oifname ${dev} udp dport 5405 drop`)
    await inNs(n.ns, 'nft', `add table inet swcut; add chain inet swcut in { type filter hook input priority -300; }; add chain inet swcut out { type filter hook output priority -300; }; ${rules.join('; ')}`)
  }

  async heal (n: Node): Promise<void> { await inNs(n.ns, 'nft', 'delete table inet swcut').catch(() => '') }

  async until (cond: () => boolean, ms: number, what: string): Promise<void> {
    const end = Date.now() + ms
    while (!cond()) {
      if (Date.now() > end) throw new Error(`${what}: not reached in ${ms} ms; last lines: ${JSON.stringify(this.nodes.map(n => [n.id, n.last]))}`)
      await sleep(20)
    }
  }

  serving (): boolean { return this.nodes.every(n => n.proc?.exitCode === null && n.last?.action === 'serve' && n.last.partition.length === this.nodes.length) }

  async destroy (): Promise<void> {
    for (const n of this.nodes) n.proc?.kill('SIGKILL')
    this.witness?.kill('SIGKILL')
    for (const ns of [`${this.prefix}-br`, this.witnessNs, ...this.nodes.map(n => n.ns)]) await sh('ip', 'netns', 'del', ns).catch(() => '')
    rmSync(this.dir, { recursive: true, force: true })
  }
}

/// A failed test prints every node's transitions (the bed is gone afterwards).
function dumpOnFailure (ctx: Mocha.Context, bed: QuorumBed): void {
  if (ctx.currentTest?.state !== 'failed') return
  for (const n of bed.nodes) console.log(`${n.id}:\n${n.lines.map(l => `  ${l.t % 100_000} ${l.action} {${l.partition.join()}} ${l.by ?? '-'} ready=${String(l.ready)} ${l.why.join(' | ')}`).join('\n')}`)
}

/// Since `at`, no node fenced or saw its partition shrink.
function assertUnchanged (bed: QuorumBed, at: number, what: string): void {
  for (const n of bed.nodes) {
    const changed = n.since(at).filter(l => l.action === 'fence' || l.partition.length !== bed.nodes.length)
    assert.deepEqual(changed, [], `${n.id} fenced or lost a member after ${what}`)
  }
  const holds = bed.nodes.flatMap(n => n.since(at).filter(l => l.action === 'hold'))
  if (holds.length > 0) console.log(`      (${holds.length} momentary holds after ${what})`)
}

/// Cuts n3's heartbeats, returns when the majority has excluded it; checks the fence came first.
async function isolate (bed: QuorumBed, way: 'both' | 'out' | 'in'): Promise<string> {
  const [n1, n2, n3] = bed.nodes as [Node, Node, Node]
  const cutAt = Date.now()
  await bed.cut(n3, way)
  await bed.until(() => n3.last?.action === 'fence' && [n1, n2].every(n => n.last?.partition.join() === 'n1,n2' && n.last.ready && n.last.action === 'serve'), 3000, `${way} cut`)
  const fence = n3.since(cutAt).find(l => l.action === 'fence')!
  const ready = Math.min(...[n1, n2].map(n => n.since(cutAt).find(l => l.partition.join() === 'n1,n2' && l.ready && l.action === 'serve')!.t))
  // The majority may hold for a moment (its members' partitions differ until both saw the cut:
  // it keeps its buckets and takes none), but never fences.
  for (const n of [n1, n2]) assert.deepEqual(n.since(cutAt).filter(l => l.action === 'fence'), [], `${n.id} fenced after the cut`)
  if (way !== 'in') assert.ok(fence.t <= ready, `n3 fenced at +${fence.t - cutAt} ms, after the majority could take its buckets (+${ready - cutAt} ms)`)
  assert.ok(ready - cutAt < 1000, `takeover ready only ${ready - cutAt} ms after the cut`)
  assert.match(fence.why.join('\n'), /in a minority, holds no buckets/)
  return `${way}: n3 fenced at +${fence.t - cutAt} ms, majority may take at +${ready - cutAt} ms; n3 says "${fence.why[0]}"`
}

async function healAll (bed: QuorumBed): Promise<string> {
  const n3 = bed.nodes[2]!
  const at = Date.now()
  await bed.heal(n3)
  await bed.until(() => bed.serving(), 3000, 'heal')
  return `healed in ${bed.nodes.map(n => n.last!.t).reduce((a, b) => Math.max(a, b)) - at} ms`
}

for (const mode of ['unicast', 'multicast'] as const) {
  describe(`cluster quorum in network namespaces: three nodes, ${mode} heartbeats, nftables cuts`, function () {
    this.timeout(60_000)
    const bed = new QuorumBed(['n1', 'n2', 'n3'])
    before(async () => {
      await bed.build()
      for (const n of bed.nodes) bed.start(n, { multicast: mode === 'multicast', ring1: false, witness: false })
      await bed.until(() => bed.serving(), 5000, 'start')
    })
    after(async () => { await bed.destroy() })
    afterEach(function () { dumpOnFailure(this, bed) })

    for (const way of ['both', 'out', 'in'] as const) {
      it(`n3's heartbeats cut ${way === 'both' ? 'both ways' : way === 'out' ? 'outbound only' : 'inbound only'}: n3 fences, the majority keeps serving, and the heal converges`, async () => {
        console.log(`      ${await isolate(bed, way)}`)
        console.log(`      ${await healAll(bed)}`)
      })
    }
  })
}

describe('cluster quorum in network namespaces: redundant heartbeat paths', function () {
  this.timeout(60_000)
  const bed = new QuorumBed(['n1', 'n2', 'n3'])
  before(async () => {
    await bed.build()
    for (const n of bed.nodes) bed.start(n, { multicast: false, ring1: true, witness: false })
    await bed.until(() => bed.serving(), 5000, 'start')
  })
  after(async () => { await bed.destroy() })
  afterEach(function () { dumpOnFailure(this, bed) })

  it('cutting one of two paths changes nothing and says which path is down; cutting both isolates', async () => {
    const n3 = bed.nodes[2]!
    const at = Date.now()
    await bed.cut(n3, 'both', 'eth1')
    await sleep(1500)
    // Nothing a client could see: nobody fences and the partition stays whole (a `hold` for a few
    // ms, when a loaded host reports late, keeps every bucket where it is).
    assertUnchanged(bed, at, 'one of two paths was cut')
    assert.ok(bed.serving())
    await bed.heal(n3)
    const bothAt = Date.now()
    await bed.cut(n3, 'both', 'eth0')
    await inNs(n3.ns, 'nft', 'add rule inet swcut in iifname eth1 udp dport 5405 drop; add rule inet swcut out oifname eth1 udp dport 5405 drop')
    await bed.until(() => n3.last?.action === 'fence', 3000, 'both paths cut')
    console.log(`      both paths cut: n3 fenced at +${n3.last!.t - bothAt} ms: ${n3.last!.why.join(' | ')}`)
    await bed.heal(n3)
    await bed.until(() => bed.serving(), 3000, 'heal')
  })
})

describe('cluster quorum in network namespaces: two nodes and a witness', function () {
  this.timeout(60_000)
  const bed = new QuorumBed(['a', 'b'])
  before(async () => {
    await bed.build()
    await bed.startWitness()
    for (const n of bed.nodes) bed.start(n, { multicast: false, ring1: false, witness: true })
    await bed.until(() => bed.serving(), 5000, 'start')
  })
  after(async () => { await bed.destroy() })
  afterEach(function () { dumpOnFailure(this, bed) })

  it('a split: the witness decides, exactly one side serves; the heal brings both back', async () => {
    const [a, b] = bed.nodes as [Node, Node]
    await bed.cut(b, 'both')
    await bed.until(() => [a, b].every(n => n.last?.partition.length === 1 && n.last.action !== 'hold'), 3000, 'split')
    const actions = [a, b].map(n => `${n.id}:${n.last!.action}:${n.last!.by ?? '-'}`).sort()
    console.log(`      split: ${actions.join(' ')}`)
    assert.equal(actions.filter(x => x.includes(':serve:witness')).length, 1, actions.join(' '))
    assert.equal(actions.filter(x => x.includes(':fence:')).length, 1, actions.join(' '))
    await bed.heal(b)
    await bed.until(() => bed.serving(), 3000, 'heal')
  })

  it('killing the witness alone changes nothing while both nodes are up', async () => {
    const at = Date.now()
    bed.witness?.kill('SIGKILL')
    await sleep(2500)
    assertUnchanged(bed, at, 'the witness died')
  })

  it('one node killed with the witness up: the survivor keeps serving (it never fences)', async () => {
    await bed.startWitness()
    const [a, b] = bed.nodes as [Node, Node]
    const at = Date.now()
    b.proc?.kill('SIGKILL')
    await bed.until(() => a.last?.partition.join() === 'a' && a.last.action === 'serve' && a.last.by === 'witness' && a.last.ready, 3000, 'survivor')
    const seen = a.since(at).map(l => l.action)
    console.log(`      survivor: ${seen.join(' → ')} (${a.last!.t - at} ms after the kill)`)
    assert.ok(!seen.includes('fence'), 'the survivor fenced')
    assert.ok(a.last!.t - at < 1000, 'the survivor could take the dead node\'s buckets only after the failover window')
  })
})
