/// Split per-service clusters, live: one Scanwall process per node namespace runs two cluster
/// instances, `http` (VIP .100, ICAP port 1344) and `mail` (VIP .101, ICAP port 11344), each with its
/// own heartbeat port, bucket map and nftables tables. Connections to each VIP spread over the three
/// nodes; one instance of one node can be drained alone while the node keeps serving the other; and
/// killing a node moves its buckets in both instances.
import assert from 'node:assert/strict'
import { fileURLToPath } from 'node:url'
import { join } from 'node:path'
import { TestBed, inNs, sh, buckets, snmpPort, snmpUser, type BedInstance, type NodeProc } from './testbed.js'
import { Harness, sleep } from './harness.js'
import { failoverWindow, describeWindow } from './window.js'
import { run, v3Args, mibArgs, parseVarbinds } from '../helpers/snmp.js'

const repo = fileURLToPath(new URL('../../..', import.meta.url))

const http: BedInstance = { name: 'http', vip: '10.213.0.100', port: 1344, beatPort: 5405 }
const mail: BedInstance = { name: 'mail', vip: '10.213.0.101', port: 11344, beatPort: 5406 }

describe('cluster: split per-service clusters, two instances in one process per node (network namespaces)', function () {
  this.timeout(180_000)
  const bed = new TestBed(repo, { tag: 's', instances: [http, mail] })
  const h = new Harness(bed)

  before(async function () { await h.setUp(() => ({})) })

  afterEach(function () { if (this.currentTest?.state === 'failed') h.failed = true })

  after(async function () { await h.tearDown() })

  /// The node state `n`'s SNMP agent reports (swNodeState.0), e.g. "active(2)".
  const snmpNodeState = async (n: NodeProc): Promise<string> => {
    const auth = v3Args({ user: snmpUser.name, auth: 'SHA-256', authKey: snmpUser.authKey, priv: 'AES', privKey: snmpUser.privKey })
    const r = await run('ip', ['netns', 'exec', n.ns, 'snmpget', ...auth, ...mibArgs, '-t', '2', '-r', '1', `127.0.0.1:${snmpPort}`, 'SCANWALL-MIB::swNodeState.0'],
      { ...process.env, SNMP_PERSISTENT_DIR: join(bed.dir, 'snmp-persist') })
    assert.equal(r.code, 0, `snmpget on ${n.name} failed: ${r.stderr}`)
    return parseVarbinds(r.stdout).get('swNodeState.0') ?? ''
  }

  it('runs each instance with its own heartbeat group, bucket map and tables', async () => {
    const n1 = bed.nodes[0]!
    const tables = (await inNs(n1.ns, 'nft', 'list', 'tables')).split('\n').filter(l => l.includes('scanwall')).map(l => l.trim()).sort()
    assert.deepEqual(tables, ['table ip scanwall_base_http', 'table ip scanwall_base_mail', 'table ip scanwall_http', 'table ip scanwall_mail'])
    const status = await h.status(n1)
    for (const inst of [http, mail]) {
      const view = status[inst.name]
      assert.ok(view !== undefined, `no ${inst.name} instance`)
      assert.deepEqual(view.nodes.map(r => `${r.id}:${r.state}`), ['n1:online', 'n2:online', 'n3:online'])
    }
    const sockets = await inNs(n1.ns, 'ss', '-Hlun')
    for (const inst of [http, mail]) assert.match(sockets, new RegExp(`${n1.ip.replaceAll('.', '\\.')}:${inst.beatPort}\\b`), `no heartbeat socket for ${inst.name}`)
    console.log(`    n1: ${tables.join(', ')}; buckets owned: http ${status['http']?.owned.length}, mail ${status['mail']?.owned.length}`)
  })

  it('spreads new connections to each virtual address over all three nodes (each ≥ 20 %)', async () => {
    console.log(`    ${await h.spread(http)}`)
    console.log(`    ${await h.spread(mail)}`)
  })

  it('drains one instance of a node (`node offline --instance mail`) while the node keeps serving the other, with zero failed transactions', async () => {
    const n2 = bed.nodes[1]!
    const runs = [await h.load(http), await h.load(mail)]
    await sleep(1000)
    const out = await sh(process.execPath, h.cli, 'node', 'offline', '--config', n2.config, '--instance', mail.name)
    const result = JSON.parse(out) as { drained: boolean, ms: number }
    assert.equal(result.drained, true)
    await bed.resetServed()
    await sleep(1500)
    const whileOut = { http: (await bed.served(n2, http)).size, mail: (await bed.served(n2, mail)).size }
    const open = { http: await bed.established(n2, http), mail: await bed.established(n2, mail) }
    const view = (await h.status(n2))
    await sh(process.execPath, h.cli, 'node', 'online', '--config', n2.config, '--instance', mail.name)
    await h.settled(bed.nodes.map(n => n.name), 15_000, mail)
    await bed.resetServed()
    await sleep(2000)
    const [httpAttempts, mailAttempts] = [await runs[0]!.stop(), await runs[1]!.stop()]
    const back = await h.shares(mail)
    const total = [...back.values()].reduce((s, v) => s + v.size, 0)
    console.log(`    mail on n2 drained in ${result.ms} ms; while out n2 accepted ${whileOut.http} http and ${whileOut.mail} mail connections ` +
      `(open: ${open.http} http, ${open.mail} mail; n2 owned ${view['http']?.owned.length} http and ${view['mail']?.owned.length} mail buckets); ` +
      `${httpAttempts.length} http and ${mailAttempts.length} mail transactions; back online: n2 ${back.get(n2.name)?.size} of ${total} mail`)
    assert.deepEqual(h.unexplained(httpAttempts.filter(a => !a.ok), 'http during the mail drain'), [])
    assert.deepEqual(h.unexplained(mailAttempts.filter(a => !a.ok), 'mail during its drain'), [])
    assert.equal(whileOut.mail, 0, 'the drained instance accepted new connections')
    assert.equal(open.mail, 0, 'the drained instance still has connections')
    assert.ok(whileOut.http > 0, 'the node stopped serving the instance that was not drained')
    assert.equal(view['mail']?.owned.length, 0)
    assert.ok((view['http']?.owned.length ?? 0) > 0)
    assert.ok((back.get(n2.name)?.size ?? 0) >= 0.2 * total, 'the node did not get its mail share back')
  })

  it('shows the node active in SNMP again after a whole-node drain once one instance is back (`online --instance`)', async () => {
    const n1 = bed.nodes[0]!
    const before = await snmpNodeState(n1)
    await sh(process.execPath, h.cli, 'node', 'offline', '--config', n1.config)
    const drained = await snmpNodeState(n1)
    await sh(process.execPath, h.cli, 'node', 'online', '--config', n1.config, '--instance', http.name)
    await h.settled(bed.nodes.map(n => n.name), 15_000, http)
    const partly = await snmpNodeState(n1)
    const view = await h.status(n1)
    await sh(process.execPath, h.cli, 'node', 'online', '--config', n1.config)
    for (const inst of [http, mail]) await h.settled(bed.nodes.map(n => n.name), 15_000, inst)
    const back = await snmpNodeState(n1)
    console.log(`    n1 in SNMP: ${before} → node offline: ${drained} → online --instance http: ${partly} → online: ${back}`)
    assert.equal(before, 'active(2)')
    assert.equal(drained, 'draining(3)')
    assert.equal(partly, 'active(2)', 'SNMP still shows the node draining while it serves http again')
    assert.equal(view['http']?.nodes.find(r => r.self)?.state, 'online')
    assert.equal(view['mail']?.nodes.find(r => r.self)?.state, 'offline')
    assert.equal(back, 'active(2)')
  })

  it('moves the buckets of a SIGKILLed node in both instances', async () => {
    const victim = bed.nodes[2]!
    // The mail side runs its own load and prober beside the http failover measurement.
    const mailMap = await h.owners(mail)
    const mailRun = await h.load(mail, 4, 10)
    const mailProbes = await h.probes(mail)
    let killedAt = 0
    await h.failover(victim, 'SIGKILL', async () => {
      killedAt = Date.now()
      victim.proc?.kill('SIGKILL')
    }, http)
    const [mailAttempts, probed] = [await mailRun.stop(), await mailProbes.stop()]
    const window = failoverWindow(probed, killedAt, lport => h.ownerOf(mailMap, lport), victim.name)
    console.log(`    SIGKILL ${victim.name} (mail): ${describeWindow(window)}`)
    for (const inst of [http, mail]) await h.settled(['n1', 'n2'], 15_000, inst)
    const survivors = await Promise.all(bed.nodes.slice(0, 2).map(async n => await h.status(n)))
    for (const inst of [http, mail]) {
      const owned = survivors.flatMap(s => s[inst.name]?.owned ?? [])
      assert.equal(new Set(owned).size, buckets, `${inst.name}: the survivors do not own every bucket`)
    }
    const onSurvivors = mailAttempts.filter(a => a.s >= killedAt && h.ownerOf(mailMap, a.lport) !== victim.name && !a.ok)
    assert.deepEqual(h.unexplained(onSurvivors, 'mail survivors', victim.name), [], 'mail connections to surviving nodes failed')
    const lateOnVictim = mailAttempts.filter(a => a.s > killedAt + window.windowMs && h.ownerOf(mailMap, a.lport) === victim.name)
    assert.ok(lateOnVictim.length > 0 && lateOnVictim.every(a => a.ok), 'the dead node\'s mail buckets were not taken over')
  })
})
