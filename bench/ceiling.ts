/// Issue #11's bench cells (items 4, 5, 6), all with the peer-scale DB (../shared/peers/gen-db.py):
/// the clean-verdict cache's cost on unique 1 MiB bodies and its answer to a repeated 16 MiB body
/// against a first scan; `scanwall scan --jobs 2` on the peers' corpus (make-corpus.py) against
/// `clamdscan --multiscan` and a freshly started clamd (empty cache), in the same run; and the ICAP
/// path as a fraction of ../shared/peers/null-icap.js (a server that reads each body and answers
/// 204 without scanning) at 4 KiB, 64 KiB and 1 MiB, c=8, alternating who goes first. Returns a
/// markdown table. `node dist/bench/ceiling.js [--quick] [--only cache,repeat,jobs,null]` runs it (or some cells) alone; `--null-only [--sizes 4k,64k]
/// [--reps N] [--seconds N]` runs only the null-icap.js fractions (the small-object cells, issue #11 item 6).
import { execFile } from 'node:child_process'
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs'
import { randomBytes } from 'node:crypto'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { promisify } from 'node:util'
import { pino } from 'pino'
import { ScanService } from '../src/scan/service.js'
import { releaseSource } from '../src/scan/body.js'
import { Metrics } from '../src/metrics.js'
import { Clamd, timed } from './clamav-peer.js'
import { cacheCost, median, startWithWorkerThreads, type CacheCost, type CostEstimate } from './cache-cost.js'
import { load } from './machine.js'
import { runBenchIcap, type IcapTarget } from './bench-icap.js'
import { startScanwallNode, cliMain } from '../test/helpers/scanwall-node.js'
import { Daemon } from '../test/helpers/daemon.js'
import { freePort, waitForPort } from '../test/helpers/ports.js'

const run = promisify(execFile)
const peers = fileURLToPath(new URL('../../../shared/peers/', import.meta.url))

export interface CeilingBenchOptions { readonly quick?: boolean, readonly cells?: readonly CeilingCell[] | undefined }

/// The null-icap.js part alone: which sizes, how many pairs of how many seconds.
export interface NullOnlyOptions { readonly sizes: readonly string[], readonly reps: number, readonly seconds: number }

const nullTargets: Readonly<Record<string, number>> = { '4k': 0.6, '64k': 0.35, '1m': 0.5 }

/// Per size: each pair's fraction, and both servers' req/s.
interface NullPairs { readonly fractions: number[], readonly ours: number[], readonly theirs: number[] }

function fractionRows (pairs: Map<string, NullPairs>): string[] {
  const rps = (xs: number[]): string => `${median(xs).toFixed(0)} req/s`
  return [...pairs].map(([size, { fractions: values, ours, theirs }]) =>
    `| ICAP RESPMOD ${size} c=8: Scanwall req/s ÷ null-icap.js req/s (median of ${values.length} pairs) | ${rps(ours)} | ${rps(theirs)} | **${median(values).toFixed(2)}** (${Math.min(...values).toFixed(2)}..${Math.max(...values).toFixed(2)}; target ${nullTargets[size] ?? '-'}) |`)
}

const never = new AbortController().signal

/// A 16 MiB body (spooled): its first scan against its answers from the cache (third sighting on).
/// Each sighting arrives through its own sink, as each ICAP or clamd request does (the sink hashes
/// a repeated body while it spools: src/scan/spool-hash.ts); the time is from the body being in to
/// the verdict.
async function repeatRatio (service: ScanService, spool: string, repeats: number): Promise<{ firstMs: number, secondMs: number, hitMs: number, spoolFirstMs: number, spoolHitMs: number }> {
  const bytes = randomBytes(16 << 20)
  const sighting = async (): Promise<{ spoolMs: number, scanMs: number }> => {
    const started = performance.now()
    const sink = service.openSink()
    for (let at = 0; at < bytes.length; at += 1 << 20) await sink.write(bytes.subarray(at, at + (1 << 20)))
    const body = await sink.finish()
    try {
      if (body.kind !== 'file') throw new Error(`a 16 MiB body was not spooled (spool ${spool})`)
      const t = performance.now()
      await service.scan(body, { service: 'bench' }, never)
      return { spoolMs: t - started, scanMs: performance.now() - t }
    } finally {
      await releaseSource(body)
    }
  }
  const first = await sighting()
  const second = await sighting() // hashed while spooled, scanned, stored
  const hits: Array<{ spoolMs: number, scanMs: number }> = []
  for (let i = 0; i < repeats; i++) hits.push(await sighting())
  return { firstMs: first.scanMs, secondMs: second.scanMs, hitMs: median(hits.map(h => h.scanMs)), spoolFirstMs: first.spoolMs, spoolHitMs: median(hits.map(h => h.spoolMs)) }
}

async function jobsAgainstMultiscan (root: string, dbDir: string, corpus: string): Promise<{ oursMs: number, theirsMs: number, bytes: number }> {
  const bytes = readdirSync(corpus).reduce((n, f) => n + statSync(join(corpus, f)).size, 0)
  const scan = async (): Promise<number> => (await timed(process.execPath, [cliMain, 'scan', '--jobs', '2', '--no-summary', '--db', dbDir, corpus])).ms
  await timed(process.execPath, [cliMain, 'scan', '--jobs', '2', '--no-summary', '--db', dbDir, join(peers, 'README.md')]) // compiles the DB cache
  const oursMs = await scan()
  const { clamd } = await Clamd.start(join(root, 'clamd'), dbDir)
  try {
    return { oursMs, theirsMs: await clamd.multiscan(corpus), bytes }
  } finally {
    clamd.stop()
  }
}

/// Scanwall's req/s over null-icap.js's, per size, c=8: medians of the per-pair ratios.
async function nullFractions (root: string, dbDir: string, sizes: readonly string[], reps: number, seconds: number): Promise<Map<string, NullPairs>> {
  const port = await freePort()
  mkdirSync(join(root, 'node'), { recursive: true })
  const nullIcap = new Daemon('null-icap', process.execPath, [join(peers, 'null-icap.js'), String(port)], { logFile: join(root, 'null-icap.log') })
  let node: Awaited<ReturnType<typeof startScanwallNode>> | undefined
  try {
    node = await startScanwallNode({ dir: join(root, 'node'), signaturesDir: dbDir, env: { SCANWALL_SNMP_ENABLED: 'false' }, startTimeoutMs: 120_000 })
    await waitForPort('127.0.0.1', port, 10_000, () => nullIcap.alive)
    const ceiling: IcapTarget = { host: '127.0.0.1', port, service: 'avscan' }
    const benchIcap = join(peers, 'bench-icap')
    // Steady state, not the first seconds after start (JIT, first touches of the DB's pages): each
    // server runs every size for 2 s before the pairs (1 s of 64 KiB left the node's first pair
    // 20-30 % below its later ones).
    for (const size of sizes) for (const target of [ceiling, node]) await runBenchIcap(benchIcap, target, { size, concurrency: 8, seconds: 2 })
    const fractions = new Map<string, NullPairs>()
    let index = 0
    for (let rep = 0; rep < reps; rep++) {
      for (const size of sizes) {
        const request = { size, concurrency: 8, seconds }
        const nullFirst = index++ % 2 === 0
        const a = await runBenchIcap(benchIcap, nullFirst ? ceiling : node, request)
        const b = await runBenchIcap(benchIcap, nullFirst ? node : ceiling, request)
        const [theirs, ours] = nullFirst ? [a, b] : [b, a]
        const pairs = fractions.get(size) ?? { fractions: [], ours: [], theirs: [] }
        pairs.fractions.push(ours.rps / Math.max(theirs.rps, 1e-9))
        pairs.ours.push(ours.rps)
        pairs.theirs.push(theirs.rps)
        fractions.set(size, pairs)
      }
    }
    return fractions
  } finally {
    await node?.daemon.stop(10_000)
    await nullIcap.stop(2000)
  }
}

/// The cells runCeilingBench can run (`--only cache,repeat,jobs,null`); all by default.
export const ceilingCells = ['cache', 'repeat', 'jobs', 'null'] as const
/// Pairs of the cache cost cell (each body scanned twice).
const cachePairs = 1500
export type CeilingCell = typeof ceilingCells[number]

function cacheRow (cost: CacheCost): string {
  const pct = (x: number): string => `${(100 * x).toFixed(2)} %`
  const range = (e: CostEstimate): string => `${pct(e.cost)} (${pct(e.low)}..${pct(e.high)})`
  return `| unique 1 MiB bodies, each through both services (cache on / off), order swapped pair by pair, one scan at a time, ${cost.pairs} pairs: CPU per body of the calling thread + the 2 workers (schedstat); cost = median of the paired ratios, 95 % CI | ${cost.onMs.toFixed(2)} ms | ${cost.offMs.toFixed(2)} ms off; process CPU (all threads) ${range(cost.process)}; the cache's own path timed in place ${cost.inPlaceUs.toFixed(1)} µs per body (mean ${cost.inPlaceMeanUs.toFixed(1)}), VerdictCache.lookup() alone ${cost.lookupUs.toFixed(1)} µs | **${range(cost.threads)}** (target < 3 %) |`
}

export async function runCeilingBench (options: CeilingBenchOptions = {}): Promise<string> {
  const quick = options.quick === true
  const cells = new Set<CeilingCell>(options.cells ?? ceilingCells)
  const root = mkdtempSync(join(tmpdir(), 'scanwall-ceiling-bench-'))
  try {
    const dbDir = join(root, 'db')
    await run('python3', [join(peers, 'gen-db.py'), dbDir, '--seed', '20240601', '--hdb', '100000', '--ndb', '20000'])
    const rows = ['| cell | Scanwall | other | result (target) |', '|---|---:|---:|---|']
    const spool = join(root, 'spool')
    if (cells.has('cache') || cells.has('repeat')) {
      const cache = { maxEntries: 65_536, maxBytes: 16 << 20, minBytes: 16 << 10, disabledServices: ['nocache'] }
      const { service, workerThreads } = await startWithWorkerThreads(2, async () => await ScanService.start({ workers: 2, maxQueue: 64, workerMaxOldGenMb: 512, memoryLimit: 2 << 20, spoolDir: spool, timeoutMs: 120_000, signaturesDir: dbDir, inlineMaxBytes: 16 << 10, cache }, new Metrics(), pino({ level: 'silent' })))
      try {
        if (cells.has('cache')) rows.push(cacheRow(await cacheCost(service, workerThreads, quick ? 40 : cachePairs, cache)))
        if (cells.has('repeat')) {
          const repeat = await repeatRatio(service, spool, quick ? 3 : 9)
          rows.push(`| repeated 16 MiB body (spooled): first scan / answer from the cache (wall, median) | ${repeat.hitMs.toFixed(1)} ms | ${repeat.firstMs.toFixed(0)} ms first (${repeat.secondMs.toFixed(0)} ms second: hashed while spooled, scanned; spooling ${repeat.spoolFirstMs.toFixed(0)} ms first, ${repeat.spoolHitMs.toFixed(0)} ms hashed) | **${(repeat.firstMs / repeat.hitMs).toFixed(1)}x** (target ≥ 20x) |`)
        }
      } finally {
        await service.close()
      }
    }
    if (cells.has('jobs')) {
      const state = join(root, 'peers')
      await run('python3', [join(peers, 'make-corpus.py'), state, '--seed', '7', '--mb', quick ? '32' : '200'], { maxBuffer: 1 << 24 })
      const jobs = await jobsAgainstMultiscan(root, dbDir, join(state, 'corpus'))
      const mbs = (ms: number): string => `${(jobs.bytes / 1e6 / (ms / 1000)).toFixed(1)} MB/s`
      rows.push(`| \`scanwall scan --jobs 2\` (start-up included) vs \`clamdscan --multiscan\`, fresh clamd, peers' corpus ${(jobs.bytes / 1e6).toFixed(0)} MB | ${(jobs.oursMs / 1000).toFixed(2)} s, ${mbs(jobs.oursMs)} | ${(jobs.theirsMs / 1000).toFixed(2)} s, ${mbs(jobs.theirsMs)} | **${(jobs.theirsMs / jobs.oursMs).toFixed(1)}x** (target ≥ 10x) |`)
    }
    if (cells.has('null')) {
      const fractions = await nullFractions(root, dbDir, Object.keys(nullTargets), quick ? 1 : 3, quick ? 1 : 3)
      rows.push(...fractionRows(fractions))
    }
    return ['### Issue #11: verdict cache, `scanwall scan --jobs`, the ICAP ceiling (peer-scale DB: 100k hdb + 20k ndb)', '', ...rows].join('\n')
  } finally {
    rmSync(root, { recursive: true, force: true })
  }
}

/// Only the null-icap.js fractions (with the peer-scale DB): the cells of the per-request cost work.
export async function runNullOnly (options: NullOnlyOptions): Promise<string> {
  const root = mkdtempSync(join(tmpdir(), 'scanwall-ceiling-bench-'))
  try {
    const dbDir = join(root, 'db')
    await run('python3', [join(peers, 'gen-db.py'), dbDir, '--seed', '20240601', '--hdb', '100000', '--ndb', '20000'])
    const fractions = await nullFractions(root, dbDir, options.sizes, options.reps, options.seconds)
    return [`load average at end: ${load()}`, '', '| cell | Scanwall | other | result (target) |', '|---|---:|---:|---|', ...fractionRows(fractions)].join('\n')
  } finally {
    rmSync(root, { recursive: true, force: true })
  }
}

/// `--only cache,jobs`: those cells alone (a bad name is refused, naming the valid ones).
function cellsOf (only: string | undefined): CeilingCell[] | undefined {
  if (only === undefined) return undefined
  const names = only.split(',')
  const bad = names.filter(n => !(ceilingCells as readonly string[]).includes(n))
  if (bad.length > 0) throw new Error(`--only: unknown cell(s) ${bad.join(', ')}; cells: ${ceilingCells.join(', ')}`)
  return names as CeilingCell[]
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const args = process.argv.slice(2)
  const value = (name: string): string | undefined => { const at = args.indexOf(name); return at >= 0 ? args[at + 1] : undefined }
  const job = args.includes('--null-only')
    ? runNullOnly({ sizes: (value('--sizes') ?? '4k,64k,1m').split(','), reps: Number(value('--reps') ?? 3), seconds: Number(value('--seconds') ?? 3) })
    : runCeilingBench({ quick: args.includes('--quick'), cells: cellsOf(value('--only')) })
  job.then(md => { process.stdout.write(`${md}\n`) }, (err: unknown) => {
    process.stderr.write(`ceiling bench failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`)
    process.exitCode = 1
  })
}
