/// What the cluster suites do with a running test bed: start it and tear it down (also when a test
/// fails), read the agents' status over their control sockets, wait for the cluster to settle, load
/// a virtual address from the client namespace, measure a failover with the prober, and check that
/// connections spread where the bucket map says. One harness per bed; each suite adds its own tests.
import assert from 'node:assert/strict'
import { readFileSync, existsSync } from 'node:fs'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { cleanStale, sh, clientIp, key, buckets, seed, type TestBed, type BedInstance, type NodeProc } from './testbed.js'
import { control } from '../../src/cluster/control.js'
import type { InstanceStatus, StatusResult } from '../../src/cluster/control-reply.js'
import { kernelBucket } from '../../src/cluster/buckets.js'
import type { Probe } from './prober.js'
import { failoverWindow, describeWindow, type FailoverWindow } from './window.js'

/// One load connection; `node`: who answered it (its X-Scanwall-Node header).
export interface Attempt { s: number, e: number, c: number, lport: number, ok: boolean, node?: string, err?: string }
export type { InstanceStatus }
export type Status = StatusResult
export interface LoadRun { attempts: Attempt[], stop: () => Promise<Attempt[]> }

export const sleep = async (ms: number): Promise<void> => { await new Promise(resolve => setTimeout(resolve, ms)) }

export class Harness {
  readonly bed: TestBed
  readonly tools: string
  readonly prober: string
  readonly cli: string
  failed = false

  constructor (bed: TestBed) {
    this.bed = bed
    this.tools = join(bed.repo, 'dist/test/cluster/tools.js')
    this.prober = join(bed.repo, 'dist/test/cluster/prober.js')
    this.cli = join(bed.repo, 'dist/src/cli/main.js')
  }

  get first (): BedInstance { return this.bed.instances[0]! }

  /// Builds the bed, starts every node and waits until they agree on a full map.
  async setUp (health: (n: NodeProc) => unknown, extra?: (n: NodeProc, inst: BedInstance) => Record<string, unknown>, top?: (n: NodeProc) => Record<string, unknown>): Promise<void> {
    assert.equal(process.getuid?.(), 0, 'the cluster test bed needs root (ip netns, nftables)')
    assert.match(await sh('nft', '--version'), /nftables v1\./)
    const stale = await cleanStale()
    if (stale.length > 0) console.log(`    removed stale beds: ${stale.join(' ')}`)
    try {
      await this.bed.build()
      this.bed.writeConfigs(health, extra, top)
      for (const n of this.bed.nodes) this.bed.start(n)
      for (const inst of this.bed.instances) await this.settled(this.bed.nodes.map(n => n.name), 30_000, inst)
    } catch (err) {
      // A bed that never comes up is a failure too: tearDown then shows the nodes' logs.
      this.failed = true
      throw err
    }
  }

  /// Prints what the nodes logged (all of it that matters when something failed), removes the bed,
  /// and checks that no namespace is left.
  async tearDown (): Promise<void> {
    for (const n of this.bed.nodes) {
      if (!existsSync(n.log)) continue
      const lines = readFileSync(n.log, 'utf8').split('\n')
      console.log(`    ${n.name}: ${lines.filter(l => l.includes('cluster peer failed')).length} peers judged failed`)
      if (this.failed) console.log(`---- ${n.name} (${n.proc?.exitCode ?? n.proc?.signalCode ?? 'running'}) log (cluster lines, tail)\n${lines.filter(l => /cluster|health|error|Error|exit/.test(l)).slice(-30).join('\n')}`)
    }
    await this.bed.destroy()
    const left = (await sh('ip', 'netns', 'list')).split('\n').filter(l => l.startsWith(`${this.bed.prefix}-`))
    assert.deepEqual(left, [], 'namespaces left behind')
  }

  async status (n: NodeProc): Promise<Status> {
    return await control.status(n.controlSocket, Buffer.from(key), undefined, 5000)
  }

  live (): NodeProc[] {
    return this.bed.nodes.filter(n => n.proc !== undefined && n.proc.exitCode === null && n.proc.signalCode === null)
  }

  /// bucket → node name, from what each live agent says its kernel filter accepts.
  async owners (inst = this.first): Promise<Map<number, string>> {
    const map = new Map<number, string>()
    for (const n of this.live()) for (const b of (await this.status(n))[inst.name]?.owned ?? []) map.set(b, n.name)
    return map
  }

  ownerOf (map: Map<number, string>, lport: number): string | undefined {
    return map.get(kernelBucket(clientIp, lport, buckets, seed))
  }

  /// Polls until every live agent sees `expectOnline` online, the same map, and all buckets owned once.
  async settled (expectOnline: string[], timeoutMs = 15_000, inst = this.first): Promise<void> {
    const deadline = Date.now() + timeoutMs
    let last = ''
    while (Date.now() < deadline) {
      try {
        const all = (await Promise.all(this.live().map(async n => await this.status(n)))).map(s => s[inst.name])
        if (all.every(s => s !== undefined)) {
          const views = all as InstanceStatus[]
          const versions = new Set(views.map(s => s.mapVersion))
          const owned = views.flatMap(s => s.owned)
          const onlineOk = views.every(s => s.nodes.filter(r => r.state === 'online').map(r => r.id).sort().join() === [...expectOnline].sort().join())
          last = JSON.stringify(views.map(s => s.nodes.map(r => `${r.id}:${r.state}:${r.owned}/${r.mapped}`)))
          if (onlineOk && versions.size === 1 && owned.length === buckets && new Set(owned).size === buckets) return
        }
      } catch (err) { last = String(err) }
      await sleep(100)
    }
    throw new Error(`cluster ${inst.name} did not settle on ${expectOnline.join(',')}: ${last}`)
  }

  /// Starts the load (OPTIONS + RESPMOD per connection) and resolves once it runs.
  async load (inst = this.first, concurrency = 4, pauseMs = 15): Promise<LoadRun> {
    return await this.#records<Attempt>(process.execPath, this.tools, 'load', inst.vip, String(inst.port), String(concurrency), String(pauseMs), '3000', 'icap')
  }

  /// Starts the failover prober (a fresh connection + OPTIONS every `everyMs`, `connectMs` connect
  /// deadline); with `only`, on those buckets alone.
  async probes (inst = this.first, everyMs = 20, connectMs = 300, only?: readonly number[]): Promise<{ stop: () => Promise<Probe[]> }> {
    const filter = only === undefined ? [] : [clientIp, `${buckets}:${seed}:${only.join(',')}`]
    return await this.#records<Probe>('nice', '-n', '-10', process.execPath, this.prober, inst.vip, String(inst.port), String(everyMs), String(connectMs), '1000', ...filter)
  }

  /// Runs a client-namespace tool that prints one JSON record per line until its stdin closes;
  /// resolves once the first record arrived (it runs) or the tool exited.
  async #records<T> (...command: string[]): Promise<{ attempts: T[], stop: () => Promise<T[]> }> {
    const child = this.bed.spawnIn(this.bed.clientNs, ...command)
    const records: T[] = []
    let started: () => void = () => {}
    const running = new Promise<void>(resolve => { started = resolve })
    createInterface({ input: child.stdout! }).on('line', line => { records.push(JSON.parse(line) as T); started() })
    const exited = new Promise<void>(resolve => child.on('exit', () => resolve()))
    await Promise.race([running, exited])
    return { attempts: records, stop: async () => { child.stdin!.end(); await exited; return records } }
  }

  /// Failures the operation under test caused. On a starved machine a live node can stall past the
  /// failure deadline; its peers then take its buckets while it still holds them, and a SYN in that
  /// window may be answered twice (a reset). Such failures are reported, capped, and told apart by
  /// the peers' own log lines ("cluster peer failed") around them; every other failure counts.
  unexplained (failures: Attempt[], label: string, realFailure?: string): Attempt[] {
    const suspicions = this.bed.nodes.flatMap(n => existsSync(n.log) ? readFileSync(n.log, 'utf8').split('\n') : [])
      .filter(l => l.includes('cluster peer failed') && (realFailure === undefined || !l.includes(`"peer":"${realFailure}"`)))
      .map(l => Date.parse((/"time":"([^"]+)"/.exec(l) ?? [])[1] ?? ''))
    const excused = failures.filter(a => suspicions.some(t => t >= a.s - 1500 && t <= a.e + 1500))
    if (excused.length > 0) console.log(`    ${label}: ${excused.length} failure(s) during a false peer-failure suspicion (starved machine), not counted`)
    assert.ok(excused.length <= 5, `${excused.length} failures during suspicions: the cluster is unstable`)
    return failures.filter(a => !excused.includes(a))
  }

  async shares (inst = this.first): Promise<Map<string, Set<number>>> {
    return new Map(await Promise.all(this.bed.nodes.map(async n => [n.name, await this.bed.served(n, inst)] as const)))
  }

  /// Loads `inst` until at least `count` transactions succeeded, then checks that every node served
  /// at least 20 % and each connection landed where the userspace jhash twin of the map says.
  async spread (inst = this.first, count = 150): Promise<string> {
    await this.bed.resetServed()
    const before = await this.owners(inst)
    const run = await this.load(inst)
    // Enough connections for the shares to mean something, however slow the machine is today.
    for (let waited = 0; run.attempts.filter(a => a.ok).length < count && waited < 30_000; waited += 250) await sleep(250)
    const attempts = await run.stop()
    const after = await this.owners(inst)
    const ok = attempts.filter(a => a.ok)
    assert.deepEqual(this.unexplained(attempts.filter(a => !a.ok), `spread ${inst.name}`), [])
    const served = await this.shares(inst)
    const total = [...served.values()].reduce((s, v) => s + v.size, 0)
    const counts = [...served].map(([name, set]) => `${name} ${set.size} (${(100 * set.size / total).toFixed(1)} %)`)
    for (const [name, set] of served) assert.ok(set.size >= 0.2 * total, `${inst.name}: ${name} served only ${set.size} of ${total}`)
    // Buckets that moved during the run (a peer judged failed on a starved machine) prove nothing either way.
    const stable = ok.filter(a => this.ownerOf(before, a.lport) === this.ownerOf(after, a.lport))
    const wrong = stable.filter(a => !served.get(this.ownerOf(after, a.lport) ?? '')?.has(a.lport))
    assert.ok(stable.length >= ok.length * 0.5, 'the bucket map kept changing during the run')
    assert.equal(wrong.length, 0, `${wrong.length} of ${stable.length} connections were not served where the bucket map says`)
    // The same shares as the client sees them: every answer names its node (X-Scanwall-Node).
    const named = new Map(this.bed.nodes.map(n => [n.name, ok.filter(a => a.node === n.name).length]))
    assert.equal([...named.values()].reduce((s, v) => s + v, 0), ok.length, 'an answer did not name a node of the bed')
    const misnamed = stable.filter(a => a.node !== this.ownerOf(after, a.lport))
    assert.equal(misnamed.length, 0, `${misnamed.length} answers named a node other than the bucket's owner`)
    return `${ok.length} connections to ${inst.vip}:${inst.port}: ${counts.join(', ')}; by X-Scanwall-Node: ${[...named].map(([n, k]) => `${n} ${k}`).join(', ')}`
  }

  /// What survivor `n` logged after the kill: when it judged `victim` failed, and when its filter
  /// took the buckets (the window is detection + agreement + the nft transaction).
  takeover (n: NodeProc, victim: NodeProc, killedAt: number, inst = this.first): string {
    const events = readFileSync(n.log, 'utf8').split('\n').filter(l => l.startsWith('{')).map(l => JSON.parse(l) as Record<string, unknown>)
      .filter(j => j['cluster'] === inst.name)
      .map(j => Object.assign(j, { at: Date.parse(String(j['time'])) - killedAt })).filter(j => j.at >= 0)
    const detected = events.find(j => j['msg'] === 'cluster peer failed' && j['peer'] === victim.name)
    const took = events.find(j => j['msg'] === 'bucket filter applied' && Number(j['gained']) > 0)
    return `detected it at ${detected === undefined ? 'never' : `+${detected.at} ms (silent ${String(detected['silentMs'])} ms)`}, ` +
      `took ${took === undefined ? 'no buckets' : `${String(took['gained'])} buckets at +${took.at} ms (nft ${String(took['applyMs'])} ms)`}`
  }

  /// Loads `inst`, takes `victim` out with `fail`, and checks that only its buckets suffered and
  /// only until the survivors took them over. The prober measures the window: fresh connections
  /// every 20 ms, each with a 300 ms connect deadline, so the load's SYN retransmits (1 s) do not
  /// stretch it. Returns the window; prints it with the survivors' own detection times.
  async failover (victim: NodeProc, how: string, fail: () => Promise<void>, inst = this.first): Promise<FailoverWindow> {
    await this.bed.resetServed()
    const run = await this.load(inst, 6, 10)
    const probing = await this.probes(inst)
    await sleep(1500)
    const map = await this.owners(inst)
    const survivors = this.live().filter(n => n !== victim)
    const killedAt = Date.now()
    await fail()
    await sleep(3500)
    const [attempts, probed] = [await run.stop(), await probing.stop()]
    const loadAvg = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')
    const window = failoverWindow(probed, killedAt, lport => this.ownerOf(map, lport), victim.name)
    const after = attempts.filter(a => a.s >= killedAt)
    const onVictim = after.filter(a => this.ownerOf(map, a.lport) === victim.name)
    const onSurvivors = after.filter(a => this.ownerOf(map, a.lport) !== victim.name)
    // The load's connections to the dead node's buckets that started after the window must all succeed.
    const afterWindow = onVictim.filter(a => a.s > killedAt + window.windowMs)
    const label = `${how} ${victim.name}${this.bed.instances.length > 1 ? ` (${inst.name})` : ''}`
    console.log(`    ${label}: ${describeWindow(window)}; load average ${loadAvg}`)
    console.log(`    ${label}: survivors: ${survivors.map(n => `${n.name} ${this.takeover(n, victim, killedAt, inst)}`).join('; ')}`)
    console.log(`    ${label}: load: ${onVictim.length} transactions on its buckets, ${onVictim.filter(a => !a.ok).length} failed, ` +
      `${afterWindow.length} after the window (${afterWindow.filter(a => !a.ok).length} failed); ${onSurvivors.length} on survivors, ` +
      `${onSurvivors.filter(a => !a.ok).length} failed, ${onSurvivors.filter(a => a.c > 700).length} delayed by a SYN retransmit`)
    assert.ok(window.total > 0, 'the prober made no attempt after the kill')
    const probesOnSurvivors = probed.filter(p => p.s >= killedAt && !p.ok && this.ownerOf(map, p.lport) !== victim.name)
    assert.deepEqual(this.unexplained([...onSurvivors.filter(a => !a.ok), ...probesOnSurvivors], 'survivors', victim.name), [], 'connections to surviving nodes failed')
    assert.ok(afterWindow.length > 0 && afterWindow.every(a => a.ok), 'the dead node\'s buckets were not taken over')
    return window
  }
}
