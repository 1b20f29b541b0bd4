/// Redundant heartbeat paths, live (issue #17 item 3): a second bridge carries a second heartbeat
/// path (`ring1`, eth1 on 10.214.0.0/24) beside the service network. Cutting n3's heartbeats on the
/// service network only (an nftables rule on eth0 in n3's namespace) must change nothing clients
/// see: no probe fails, no bucket moves, every node stays quorate, and every way an operator looks
/// says which path to n3 is down: `cluster status` (plain text), SNMP's quorum and path tables
/// (snmpwalk) and a swClusterPathChanged notification each way (snmptrapd in n1's namespace).
/// Cutting both paths then isolates n3 as a partition does.
import assert from 'node:assert/strict'
import { fileURLToPath } from 'node:url'
import { join } from 'node:path'
import { TestBed, inNs, sh, beatPort, buckets, ringIp, snmpPort, snmpUser, trapPort, trapCommunity, type NodeProc } from './testbed.js'
import { Harness, sleep } from './harness.js'
import { LoggedDaemon, run, v3Args, mibArgs, parseVarbinds } from '../helpers/snmp.js'

const repo = fileURLToPath(new URL('../../..', import.meta.url))

async function cutOn (n: NodeProc, devices: readonly string[]): Promise<void> {
  const set = `{ ${devices.map(d => `"${d}"`).join(', ')} }`
  await inNs(n.ns, 'nft', `add table inet swcut; add chain inet swcut in { type filter hook input priority -300; }; add rule inet swcut in iifname ${set} udp dport ${beatPort} drop; ` +
    `add chain inet swcut out { type filter hook output priority -300; }; add rule inet swcut out oifname ${set} udp dport ${beatPort} drop`)
}

describe('cluster: two heartbeat paths (network namespaces)', function () {
  this.timeout(300_000)
  const bed = new TestBed(repo, { tag: 'r', ring: true, traps: true })
  const h = new Harness(bed)
  let trapd: LoggedDaemon | undefined

  before(async function () {
    await h.setUp(() => ({}), n => {
      const i = bed.nodes.indexOf(n)
      return { paths: [{ name: 'ring1', bind: `${ringIp(i)}:${beatPort}`, peers: bed.nodes.filter(p => p !== n).map(p => `${ringIp(bed.nodes.indexOf(p))}:${beatPort}`) }] }
    })
    trapd = await LoggedDaemon.start('snmptrapd', bed.dir, [`authCommunity log ${trapCommunity}`], [...mibArgs, '-F', 'TRAP %P|%v\n', `udp:127.0.0.1:${trapPort}`], bed.nodes[0]!.ns)
  })

  /// An SNMP table of `n`'s agent as snmpwalk (v3 authPriv) reads it: one record per row, by column name.
  const walk = async (n: NodeProc, table: string, first: string): Promise<Array<Record<string, string>>> => {
    const auth = v3Args({ user: snmpUser.name, auth: 'SHA-256', authKey: snmpUser.authKey, priv: 'AES', privKey: snmpUser.privKey })
    const r = await run('ip', ['netns', 'exec', n.ns, 'snmpwalk', ...auth, ...mibArgs, '-t', '2', '-r', '1', `127.0.0.1:${snmpPort}`, `SCANWALL-MIB::${table}`], { ...process.env, SNMP_PERSISTENT_DIR: join(bed.dir, 'snmp-persist') })
    assert.equal(r.code, 0, `snmpwalk on ${n.name} failed: ${r.stderr}`)
    const rows = new Map<string, Record<string, string>>()
    // The path table ends the MIB tree: snmpwalk then prints the end-of-view marker under its last name.
    for (const [name, value] of parseVarbinds(r.stdout.split('\n').filter(l => !l.includes('No more variables left')).join('\n'))) {
      const [column, index] = name.split('.')
      if (column === undefined || index === undefined || !column.startsWith(first)) continue
      rows.set(index, { ...rows.get(index), [column]: value.replace(/^"(.*)"$/, '$1') })
    }
    return [...rows.values()]
  }

  afterEach(function () { if (this.currentTest?.state === 'failed') h.failed = true })

  after(async function () {
    await trapd?.stop()
    await h.tearDown()
  })

  it('cutting the service path of n3 changes nothing clients see, and status names the silent path', async () => {
    const victim = bed.nodes[2]!
    const before = await h.owners()
    const load = await h.load(h.first, 4, 10)
    const probes = await Promise.all([0, 1].map(async () => await h.probes(h.first, 5, 200)))
    await sleep(1000)
    const cutAt = Date.now()
    await cutOn(victim, ['eth0'])
    await sleep(3000)
    const views = await Promise.all(bed.nodes.map(async n => (await h.status(n))['default']!))
    const after = await h.owners()
    const n1node = bed.nodes[0]!
    const text = await sh(process.execPath, h.cli, 'cluster', 'status', '--config', n1node.config)
    const pathRows = await walk(n1node, 'swClusterPathTable', 'swPath')
    const quorumRows = await walk(n1node, 'swClusterQuorumTable', 'swQuorum')
    const downTrap = await trapd!.waitFor(/swClusterPathChanged.*swNotifyPeer\.0 = STRING: "?n3"?.*swNotifyPath\.0 = STRING: "?service"?.*swNotifyPathState\.0 = INTEGER: down\(2\)/, 10_000)
    await inNs(victim.ns, 'nft', 'delete table inet swcut')
    const upTrap = await trapd!.waitFor(/swClusterPathChanged.*swNotifyPeer\.0 = STRING: "?n3"?.*swNotifyPath\.0 = STRING: "?service"?.*swNotifyPathState\.0 = INTEGER: up\(1\)/, 10_000)
    await sleep(500)
    const attempts = await load.stop()
    const probed = (await Promise.all(probes.map(async p => await p.stop()))).flat().filter(p => p.s >= cutAt)
    const moved = [...before].filter(([b, o]) => after.get(b) !== o).length
    const n1 = views[0]!
    console.log(`    service path of n3 cut: ${probed.filter(p => !p.ok).length} of ${probed.length} probes failed, ${attempts.filter(a => !a.ok).length} of ${attempts.length} transactions; ${moved} buckets moved`)
    console.log(`    n1 says: ${n1.quorum?.lines.join(' | ')}; n3 says: ${views[2]?.quorum?.lines.join(' | ')}`)
    // What an operator reads: plain-text status, both SNMP tables, the notifications each way.
    console.log(`    n1's cluster status (plain text):\n${text.trimEnd().split('\n').map(l => `      ${l}`).join('\n')}`)
    console.log(`    n1's swClusterPathTable: ${pathRows.map(r => `${r['swPathPeer']}/${r['swPathName']} ${r['swPathState']}`).join(', ')}; swClusterQuorumTable: ${quorumRows.map(r => `${r['swQuorumState']} ${r['swQuorumAction']} ${r['swQuorumVotes']}/${r['swQuorumExpected']}`).join(', ')}`)
    console.log(`    notifications: ${[downTrap[0], upTrap[0]].map(l => (l ?? '').replace(/^.*swNotifyDetail\.0 = STRING: /, '')).join(' / ')}`)
    assert.match(text, /^quorum: quorate, serve$/m)
    assert.match(text, /^heartbeat paths:$/m)
    for (const peer of ['n2', 'n3']) assert.match(text, new RegExp(`^ {2}${peer}\\tring1\\tup\\t\\d+ ms ago$`, 'm'), `status does not show ${peer}'s ring1 path up`)
    assert.match(text, /^ {2}n2\tservice\tup\t\d+ ms ago$/m)
    assert.match(text, /^ {2}n3\tservice\tdown\t\d+ ms ago$/m, 'status does not show n3\'s service path down')
    assert.match(text, /^\*n1\tonline\t/m, 'the node table is missing')
    const state = (peer: string, path: string): string | undefined => pathRows.find(r => r['swPathPeer'] === peer && r['swPathName'] === path)?.['swPathState']
    assert.deepEqual([state('n2', 'service'), state('n2', 'ring1'), state('n3', 'service'), state('n3', 'ring1')], ['up(1)', 'up(1)', 'down(2)', 'up(1)'])
    assert.ok(pathRows.every(r => /^\d{4}-\d{1,2}-\d{1,2},/.test(r['swPathLastHeard'] ?? '')), `a path was never heard: ${pathRows.map(r => r['swPathLastHeard']).join(' / ')}`)
    assert.equal(quorumRows.length, 1)
    assert.deepEqual([quorumRows[0]?.['swQuorumInstance'], quorumRows[0]?.['swQuorumState'], quorumRows[0]?.['swQuorumAction'], quorumRows[0]?.['swQuorumVotes'], quorumRows[0]?.['swQuorumExpected'], quorumRows[0]?.['swQuorumWitness']],
      ['default', 'quorate(1)', 'serve(1)', '3', '3', 'none(1)'])
    assert.ok(probed.length > 300, 'the probers hardly ran')
    assert.deepEqual(probed.filter(p => !p.ok).map(p => p.err), [], 'probes failed while one of two paths was cut')
    assert.deepEqual(h.unexplained(attempts.filter(a => !a.ok), 'one path cut'), [])
    assert.equal(moved, 0)
    assert.equal(after.size, buckets)
    for (const v of views) assert.equal(v.quorum?.action, 'serve')
    assert.ok(n1.quorum?.lines.some(l => /^n3: path service silent \d+ ms$/.test(l)), 'n1 does not say that the service path to n3 is silent')
  })

  it('cutting both paths isolates n3: it holds no bucket, the others own all', async () => {
    const victim = bed.nodes[2]!
    await h.settled(bed.nodes.map(n => n.name))
    await cutOn(victim, ['eth0', 'eth1'])
    await sleep(2500)
    const views = await Promise.all(bed.nodes.map(async n => (await h.status(n))['default']!))
    await inNs(victim.ns, 'nft', 'delete table inet swcut')
    await h.settled(bed.nodes.map(n => n.name))
    console.log(`    both paths cut: n3 owns ${views[2]?.owned.length} (${views[2]?.quorum?.state}); n1 + n2 own ${new Set([...views[0]!.owned, ...views[1]!.owned]).size}; n1 says ${views[0]?.quorum?.lines.join(' | ')}`)
    assert.equal(views[2]?.owned.length, 0)
    assert.equal(views[2]?.quorum?.state, 'minority')
    assert.equal(new Set([...views[0]!.owned, ...views[1]!.owned]).size, buckets)
  })
})
