/// Two nodes and a witness, live (issue #17 item 2): `scanwall witness` runs in the client namespace
/// (where the clients' view of the network is), both nodes name it in `quorum.witness`. With two
/// votes a cut leaves each node an exact half, so the witness decides which half serves; the witness
/// alone going away changes nothing while both nodes hear each other; a node killed while the
/// witness is up fails over as a three-node cluster does.
import assert from 'node:assert/strict'
import { fileURLToPath } from 'node:url'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { ChildProcess } from 'node:child_process'
import { TestBed, inNs, beatPort, buckets, clientIp, key, type NodeProc } from './testbed.js'
import { Harness, sleep } from './harness.js'
import { failoverWindow, describeWindow } from './window.js'

const repo = fileURLToPath(new URL('../../..', import.meta.url))
const witnessAt = `${clientIp}:5409`

async function cutBeats (n: NodeProc): Promise<void> {
  await inNs(n.ns, 'nft', `add table inet swcut; add chain inet swcut in { type filter hook input priority -300; }; add rule inet swcut in udp dport ${beatPort} drop; ` +
    `add chain inet swcut out { type filter hook output priority -300; }; add rule inet swcut out udp dport ${beatPort} drop`)
}

describe('cluster: two nodes and a witness (network namespaces)', function () {
  this.timeout(300_000)
  const bed = new TestBed(repo, { tag: 'w' }, 2)
  const h = new Harness(bed)
  let witness: ChildProcess | undefined

  const startWitness = (): void => {
    const keyFile = join(bed.dir, 'cluster.key')
    writeFileSync(keyFile, key, { mode: 0o600 })
    witness = bed.spawnIn(bed.clientNs, process.execPath, h.cli, 'witness', '--listen', witnessAt, '--key-file', keyFile)
    witness.stdout?.resume()
    witness.stderr?.resume()
  }

  const view = async (n: NodeProc): Promise<NonNullable<Awaited<ReturnType<Harness['status']>>[string]>> => (await h.status(n))['default']!

  before(async function () {
    // The bed's namespaces exist only once setUp built them; the witness then starts before the
    // nodes' first asks matter (they are whole, a majority without it).
    await h.setUp(() => ({}), () => ({ quorum: { witness: witnessAt } }))
    startWitness()
    await sleep(2000)
  })

  afterEach(function () { if (this.currentTest?.state === 'failed') h.failed = true })

  after(async function () { await h.tearDown() })

  it('answers both nodes: the whole pair holds the vote', async () => {
    const views = await Promise.all(bed.nodes.map(view))
    console.log(`    ${views.map((v, i) => `${bed.nodes[i]?.name}: quorum ${v.quorum?.state}, witness ${JSON.stringify(v.quorum?.witness)}`).join('; ')}`)
    for (const v of views) {
      assert.equal(v.quorum?.state, 'quorate')
      assert.equal(v.quorum?.witness?.granted, true)
      assert.deepEqual(v.quorum?.witness?.holder, ['n1', 'n2'])
    }
  })

  it('killing the witness alone moves no bucket while both nodes are up', async () => {
    const before = await h.owners()
    witness?.kill('SIGKILL')
    await sleep(3000)
    const after = await h.owners()
    const moved = [...before].filter(([b, owner]) => after.get(b) !== owner).length
    const views = await Promise.all(bed.nodes.map(view))
    console.log(`    witness killed: ${moved} buckets moved in 3 s; ${views.map((v, i) => `${bed.nodes[i]?.name} ${v.quorum?.state} (${v.quorum?.reason})`).join('; ')}`)
    assert.equal(moved, 0)
    assert.equal(after.size, buckets)
    for (const v of views) assert.equal(v.quorum?.state, 'quorate')
  })

  it('on a split, the witness decides: one side serves every bucket within 1 s, the other holds none; zero failures after the heal', async () => {
    startWitness()
    // A restarted witness votes for nobody for one lease (1 s); the pair asks every interval.
    await sleep(2500)
    await h.settled(bed.nodes.map(n => n.name))
    const load = await h.load(h.first, 4, 10)
    const probing = await h.probes(h.first, 5, 200)
    await sleep(1000)
    const cutAt = Date.now()
    await cutBeats(bed.nodes[1]!)
    await sleep(3000)
    const views = await Promise.all(bed.nodes.map(view))
    const healAt = Date.now()
    await inNs(bed.nodes[1]!.ns, 'nft', 'delete table inet swcut')
    await h.settled(bed.nodes.map(n => n.name))
    await sleep(1000)
    const [attempts, probed] = [await load.stop(), await probing.stop()]
    const window = failoverWindow(probed.filter(p => p.s < healAt), cutAt, () => undefined, '')
    const owners = views.map(v => v.owned.length)
    console.log(`    split: ${describeWindow(window)}; owned ${bed.nodes.map((n, i) => `${n.name} ${owners[i]} (${views[i]?.quorum?.state}: ${views[i]?.quorum?.reason})`).join('; ')}`)
    console.log(`    heal: ${attempts.length} transactions, ${attempts.filter(a => !a.ok && a.s >= healAt).length} failed after the heal, ${attempts.filter(a => !a.ok).length} in all`)
    assert.deepEqual([...owners].sort((a, b) => a - b), [0, buckets], 'not exactly one side serves every bucket')
    const winner = views.find(v => v.owned.length === buckets)
    assert.equal(winner?.quorum?.state, 'quorate')
    assert.equal(views.find(v => v.owned.length === 0)?.quorum?.state, 'minority')
    assert.ok(window.windowMs < 1000, `new connections failed until +${window.windowMs} ms after the cut`)
    assert.deepEqual(h.unexplained(attempts.filter(a => !a.ok && a.s >= healAt), 'after the heal'), [])
  })

  it('a node killed with the witness up fails over as with three nodes (< 1 s)', async () => {
    await h.settled(bed.nodes.map(n => n.name))
    const victim = bed.nodes[1]!
    const window = await h.failover(victim, 'SIGKILL (two nodes + witness)', async () => { victim.proc?.kill('SIGKILL') })
    const survivor = await view(bed.nodes[0]!)
    console.log(`    survivor: ${survivor.owned.length} buckets, ${survivor.quorum?.reason}`)
    assert.ok(window.windowMs < 1000, `new connections failed until +${window.windowMs} ms after the kill`)
    assert.equal(survivor.owned.length, buckets)
  })
})
