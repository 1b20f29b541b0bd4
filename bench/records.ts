/// The decision-database table (issue #12): ICAP throughput with the recorder on and off, and the
/// events per second the recorder sustains on SQLite. Two nodes run side by side (stats.enabled off;
/// on, SQLite in the bench's temp dir) and take the same cells in alternating order: bench-icap 4 KiB
/// clean bodies (aggregates only) and all-EICAR bodies from the raw load helper (every transaction
/// an event). Beside requests per second, CPU per request from /proc (utime+stime of the node), which
/// a shared machine disturbs less than wall time. Targets: under 5 % apart; 20,000 events/s.
import { readFileSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pino } from 'pino'
import { startScanwallNode, type ScanwallNode } from '../test/helpers/scanwall-node.js'
import { IcapLoad } from '../test/helpers/icap-load.js'
import { buildRequest } from '../test/integration/icap-harness.js'
import { eicar } from '../test/helpers/eicar.js'
import { runBenchIcap } from './bench-icap.js'
import { SqliteStore } from '../src/records/sqlite-store.js'
import { DecisionRecorder } from '../src/records/writer.js'
import type { RecordInput } from '../src/records/recorder.js'

export interface RecordsBenchOptions {
  readonly benchIcap: string
  readonly signaturesDir: string
  readonly seconds: number
  readonly reps: number
  readonly events: number
}

/// CPU seconds (user + system) a process has used so far, from /proc/PID/stat.
export function cpuSeconds (pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return (Number(fields[11]) + Number(fields[12])) / 100
}

interface Sample { readonly rps: number, readonly cpuMsPerRequest: number }

async function measure (node: ScanwallNode, cell: 'clean' | 'eicar', options: RecordsBenchOptions): Promise<Sample> {
  const cpu0 = cpuSeconds(node.daemon.pid)
  let requests: number
  let seconds: number
  if (cell === 'clean') {
    const r = await runBenchIcap(options.benchIcap, node, { size: '4k', concurrency: 8, seconds: options.seconds })
    requests = r.requests
    seconds = r.elapsedS
  } else {
    const request = buildRequest({ body: eicar, extraHeaders: ['X-Client-IP: 198.51.100.7'] }).whole
    const started = performance.now()
    const load = await IcapLoad.start(node.port, 8, () => request)
    await new Promise(resolve => setTimeout(resolve, options.seconds * 1000))
    requests = load.stop().answered
    seconds = (performance.now() - started) / 1000
  }
  const cpu = cpuSeconds(node.daemon.pid) - cpu0
  return { rps: requests / seconds, cpuMsPerRequest: requests === 0 ? 0 : cpu * 1000 / requests }
}

export const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0

/// The change from `before` to `after` as the median of the per-pair ratios (pair i ran back to back
/// in the same minute), with their range: on a shared machine the load drifts between pairs more
/// than within one, so pairing resolves smaller differences than two medians apart do.
export function pairedChange (before: readonly number[], after: readonly number[]): { median: number, min: number, max: number } {
  const changes = before.map((b, i) => (after[i] ?? 0) / b - 1).filter(Number.isFinite)
  return { median: median(changes), min: Math.min(...changes), max: Math.max(...changes) }
}

/// `+1.2 % (-3.0..+4.1)`: a paired change for a table cell.
export const percentChange = (c: { median: number, min: number, max: number }): string => {
  const pct = (x: number): string => `${x >= 0 ? '+' : ''}${(x * 100).toFixed(1)}`
  return `${pct(c.median)} % (${pct(c.min)}..${pct(c.max)})`
}

/// Events/s through the recorder alone: record() as fast as one thread can, the writer committing
/// batches as they fill; timed from the first record to the last commit, in wall time and in this
/// process's CPU time (the record side and the writer share this one thread, as in a node).
async function eventsPerSecond (dir: string, count: number): Promise<{ rate: number, cpuRate: number, batches: number }> {
  const store = new SqliteStore(join(dir, 'events.sqlite'))
  const recorder = new DecisionRecorder(store, { nodeId: 'bench', queueSize: 1_000_000, batchEvents: 5000, flushMs: 250, retentionDays: 90, hourlyRetentionDays: 400 }, pino({ level: 'silent' }))
  const infected: RecordInput = {
    verdict: { status: 'infected', findings: [{ name: 'Eicar-Test-Signature', kind: 'signature', path: ['object'] }], stats: { bytes: 68, objects: 1, depth: 0, ms: 0 } },
    decision: { action: 'block', reason: 'infected', threat: 'Eicar-Test-Signature' },
    context: { service: 'avscan', method: 'RESPMOD', client: '198.51.100.7', user: 'alice', url: 'http://origin.test/eicar.com' },
    bytes: 68,
  }
  const started = performance.now()
  const cpu0 = process.cpuUsage()
  for (let i = 0; i < count; i++) {
    recorder.record({ ...infected, context: { ...infected.context, client: `198.51.100.${i % 250}` } })
    // Yield now and then so the writer's batches run as they would beside traffic.
    if (i % 1000 === 999) await new Promise(resolve => setImmediate(resolve))
  }
  await recorder.flush()
  const seconds = (performance.now() - started) / 1000
  const cpu = process.cpuUsage(cpu0)
  const cpuSecondsUsed = (cpu.user + cpu.system) / 1e6
  const { committed, dropped } = recorder.counts
  await recorder.close()
  if (committed + dropped !== count) throw new Error(`recorder bench: ${committed} committed + ${dropped} dropped of ${count}`)
  return { rate: committed / seconds, cpuRate: committed / cpuSecondsUsed, batches: Math.ceil(committed / 5000) }
}

export async function runRecordsBench (options: RecordsBenchOptions): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'scanwall-bench-records-'))
  const nodes: ScanwallNode[] = []
  try {
    const off = await startScanwallNode({ dir: await mkdtemp(join(dir, 'off-')), signaturesDir: options.signaturesDir, env: { SCANWALL_STATS_ENABLED: 'false', SCANWALL_LOG_TRANSACTIONS: 'none' } })
    nodes.push(off)
    const on = await startScanwallNode({ dir: await mkdtemp(join(dir, 'on-')), signaturesDir: options.signaturesDir, env: { SCANWALL_STATS_PATH: join(dir, 'records.sqlite'), SCANWALL_LOG_TRANSACTIONS: 'none' } })
    nodes.push(on)
    const rows: string[] = []
    for (const cell of ['clean', 'eicar'] as const) {
      await measure(off, cell, { ...options, seconds: 1 })
      await measure(on, cell, { ...options, seconds: 1 })
      const samples = { off: [] as Sample[], on: [] as Sample[] }
      for (let rep = 0; rep < options.reps; rep++) {
        // Alternate who goes first, so a drift in the machine's load favours neither.
        const order = rep % 2 === 0 ? [['off', off], ['on', on]] as const : [['on', on], ['off', off]] as const
        for (const [name, node] of order) samples[name].push(await measure(node, cell, options))
      }
      const rps = { off: median(samples.off.map(s => s.rps)), on: median(samples.on.map(s => s.rps)) }
      const cpu = { off: median(samples.off.map(s => s.cpuMsPerRequest)), on: median(samples.on.map(s => s.cpuMsPerRequest)) }
      const label = cell === 'clean' ? '4 KiB clean, c=8 (bench-icap)' : 'EICAR, every object an event, c=8'
      const rpsChange = pairedChange(samples.off.map(s => s.rps), samples.on.map(s => s.rps))
      const cpuChange = pairedChange(samples.off.map(s => s.cpuMsPerRequest), samples.on.map(s => s.cpuMsPerRequest))
      rows.push(`| ${label} | ${rps.off.toFixed(0)} | ${rps.on.toFixed(0)} | ${percentChange(rpsChange)} | ${cpu.off.toFixed(3)} | ${cpu.on.toFixed(3)} | ${percentChange(cpuChange)} |`)
    }
    for (const node of nodes.splice(0)) await node.daemon.stop()
    const events = await eventsPerSecond(dir, options.events)
    return [
      '### Decision records (issue #12)',
      '',
      `Recorder off (stats.enabled false) vs on (SQLite, WAL); ${options.reps} pairs of ${options.seconds} s cells, order alternating; req/s and CPU columns are medians, Δ the median of the per-pair changes (range in brackets). Target: under 5 % apart.`,
      '',
      '| cell | req/s off | req/s on | Δ | CPU ms/req off | CPU ms/req on | Δ |',
      '|---|---:|---:|---:|---:|---:|---:|',
      ...rows,
      '',
      `Recorder alone on SQLite: ${options.events.toLocaleString('en')} events in ${events.batches} batches, **${Math.round(events.rate).toLocaleString('en')} events/s** wall time, ${Math.round(events.cpuRate).toLocaleString('en')} events per CPU second (target 20,000/s).`,
    ].join('\n')
  } finally {
    for (const node of nodes) await node.daemon.stop()
    await rm(dir, { recursive: true, force: true })
  }
}
