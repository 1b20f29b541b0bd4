/// `scanwall scan PATH... [--db DIR] [--jobs N] [--lenient] [--no-summary]`: scans files and
/// directories (recursively) in the spirit of clamscan: `path: Name FOUND` / `path: OK`, a summary,
/// exit 0 when clean, 1 when something was found, 2 when an error occurred and nothing was. Files go
/// through the same worker pool as a node's scans (`--jobs` workers, default one per CPU), as
/// `clamdscan --multiscan` hands files to clamd's threads; each worker reads its file by path, and
/// the lines come out in the order of the walk, whatever order the workers finish in. Printing in
/// walk order does not hold the workers back: scans start as workers free up (Slots), and finished
/// lines wait for the ones before them (up to `aheadLines`).
import { rmSync, statSync } from 'node:fs'
import { mkdtemp, readdir, stat } from 'node:fs/promises'
import { availableParallelism, tmpdir } from 'node:os'
import { join } from 'node:path'
import { bundledSignaturesDir, signaturesCacheDir } from '../../config/paths.js'
import { defaultLimits } from '../engine/budget.js'
import type { Verdict } from '../engine/verdict.js'
import type { ScanService } from '../scan/service.js'
import { startPool } from '../scan/pool.js'
import { Metrics } from '../metrics.js'
import { errorMessage } from '../errors.js'
import type { Logger } from '../log.js'
import { UsageError, usage, withOptions, type CommandSpec, type Parsed } from './args.js'

interface Tally { dirs: number, files: number, infected: number, errors: number, bytesRead: number, bytesScanned: number }

/// The command's output is its lines; the scan service's log (worker trouble) goes nowhere, as with
/// pino at level silent, without loading pino (~50 ms of CPU at every start).
const ignore = (): void => {}
const silentLog = { info: ignore, warn: ignore, error: ignore, debug: ignore, trace: ignore, fatal: ignore } as unknown as Logger

const mb = (n: number): string => (n / (1024 * 1024)).toFixed(2)

/// One line of output, in walk order: ready at once (an error found while walking) or once its scan
/// is done. Wrapped, since an async generator would await a promise it yields (one scan at a time).
interface Pending { readonly line: Promise<() => string> }

/// Scans in flight at once, the rest waiting in walk order: each waiter gets the next free slot.
class Slots {
  #free: number
  readonly #waiting: Array<() => void> = []
  constructor (count: number) { this.#free = count }
  async take (): Promise<void> {
    if (this.#free > 0) { this.#free--; return }
    await new Promise<void>(resolve => { this.#waiting.push(resolve) })
  }

  give (): void {
    const next = this.#waiting.shift()
    if (next !== undefined) next()
    else this.#free++
  }
}

/// One file through the service once a slot is free.
async function scanFile (service: ScanService, slots: Slots, path: string, size: number): Promise<Verdict> {
  await slots.take()
  try {
    return (await service.scan({ kind: 'file', path, size }, { service: 'cli' }, new AbortController().signal)).verdict
  } finally {
    slots.give()
  }
}

/// Walks `path` in sorted order and yields, per file or error, the function that tallies it and
/// gives its line; each file's scan is queued as the walk reaches it (the caller bounds how far
/// ahead the walk runs).
async function * walk (service: ScanService, slots: Slots, path: string, tally: Tally): AsyncGenerator<Pending> {
  let info
  try {
    info = await stat(path)
  } catch (err) {
    const text = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'No such file or directory' : errorMessage(err)
    yield { line: Promise.resolve(() => { tally.errors++; return `${path}: ${text} ERROR` }) }
    return
  }
  if (info.isDirectory()) {
    tally.dirs++
    let names: string[]
    try {
      names = (await readdir(path)).sort()
    } catch (err) {
      yield { line: Promise.resolve(() => { tally.errors++; return `${path}: ${errorMessage(err)} ERROR` }) }
      return
    }
    for (const name of names) yield * walk(service, slots, join(path, name), tally)
    return
  }
  if (!info.isFile()) return
  const size = info.size
  yield { line: scanFile(service, slots, path, size).then(verdict => () => line(path, size, verdict, tally)) }
}

function line (path: string, size: number, verdict: Verdict, tally: Tally): string {
  tally.files++
  tally.bytesRead += size
  tally.bytesScanned += verdict.stats.bytes
  if (verdict.status === 'infected') {
    tally.infected++
    return `${path}: ${verdict.findings[0]?.name ?? 'unknown'} FOUND`
  }
  if (verdict.status === 'error' || verdict.status === 'timeout' || verdict.status === 'aborted') {
    tally.errors++
    return `${path}: ${verdict.error?.message ?? 'scan failed'} ERROR`
  }
  return `${path}: OK`
}

const spec = {
  name: 'scan',
  about: 'Scan files and directories (recursively) like clamscan: exit 0 clean, 1 something found, 2 error.',
  positionals: '[PATH...]',
  options: {
    db: { type: 'string', short: 'd', value: 'DIR', help: 'signature directory (default: the bundled signatures)' },
    jobs: { type: 'string', short: 'j', value: 'N', help: 'files scanned at once, one worker thread each (default: the number of CPUs)' },
    lenient: { type: 'boolean', help: 'skip malformed signature lines instead of refusing the database' },
    'no-summary': { type: 'boolean', help: 'omit the SCAN SUMMARY block' },
  },
} satisfies CommandSpec

export async function runScan (args: string[]): Promise<number> {
  return await withOptions(spec, args, scanCommand)
}

/// Files handed to the pool per worker: one scanning, one queued, so a worker never waits for the
/// walk or the hand-off.
const openPerWorker = 2
/// Lines the walk may run ahead of the first unprinted one. Bounding the open files by the
/// unprinted lines (as before) could make a worker idle behind a large file whose line had to come
/// first: with 4 open files, the other worker finished its 3 and waited for it.
const aheadLines = 1024

function jobsOf (value: string | undefined): number {
  if (value === undefined) return availableParallelism()
  const n = Number(value)
  if (!/^\d+$/.test(value) || n < 1 || n > 256) throw new UsageError(spec.name, `--jobs must be a whole number from 1 to 256 (got '${value}')`, usage(spec))
  return n
}

/// Workers worth starting: no more than the files named when every path is a regular file (each
/// worker costs ~0.1 s of CPU to start; `scanwall scan one-file` needs one). A directory's file count
/// is not known before the walk, which runs after the pool has started.
function workersFor (jobs: number, paths: readonly string[]): number {
  if (paths.length >= jobs) return jobs
  try {
    return paths.every(p => statSync(p).isFile()) ? paths.length : jobs
  } catch {
    return jobs // a path that cannot be read: the walk says why
  }
}

async function scanCommand ({ values, positionals }: Parsed<typeof spec.options>): Promise<number> {
  const out = (s: string): void => { process.stdout.write(`${s}\n`) }
  const started = performance.now()
  const paths = positionals.length > 0 ? positionals : ['.']
  const jobs = workersFor(jobsOf(values.jobs), paths)
  const spoolDir = await mkdtemp(join(tmpdir(), 'scanwall-scan-'))
  // Removed when the process ends, however it ends: also when its output's reader went away and
  // main.ts exits at once (the command runs only as its own process).
  process.once('exit', () => { rmSync(spoolDir, { recursive: true, force: true }) })
  const poolOptions = { workers: jobs, maxQueue: jobs * openPerWorker, workerMaxOldGenMb: 512 }
  // The workers start before this thread loads the scan service and the engine (~100 modules,
  // ~0.1 s), then the DB: all three run at once (docs/engine.md, start-up).
  const early = startPool(poolOptions)
  let service: ScanService
  try {
    const { ScanService } = await import('../scan/service.js')
    service = await ScanService.start({
      ...poolOptions,
      memoryLimit: 0,
      spoolDir,
      timeoutMs: defaultLimits.maxScanMs,
      signaturesDir: values.db ?? bundledSignaturesDir,
      signaturesLenient: values.lenient === true,
      // The node's compiled-DB directory (src/node.ts): one compile serves both.
      signaturesCacheDir: join(signaturesCacheDir, 'compiled'),
    }, new Metrics(), silentLog, early)
  } catch (err) {
    // ScanService.start has stopped the workers when it failed; this stops them if it never ran.
    await early.pool.destroy().catch(() => {})
    early.offer.close()
    process.stderr.write(`scanwall scan: ${errorMessage(err)}\n`)
    return 2
  }
  const tally: Tally = { dirs: 0, files: 0, infected: 0, errors: 0, bytesRead: 0, bytesScanned: 0 }
  try {
    const open: Pending[] = []
    const slots = new Slots(jobs * openPerWorker)
    for (const path of paths) {
      for await (const pending of walk(service, slots, path, tally)) {
        open.push(pending)
        while (open.length >= aheadLines) out((await open.shift()!.line)())
      }
    }
    for (const pending of open) out((await pending.line)())
  } finally {
    await service.close()
  }
  if (values['no-summary'] !== true) {
    const secs = (performance.now() - started) / 1000
    const ratio = tally.bytesRead > 0 ? (tally.bytesScanned / tally.bytesRead).toFixed(2) : '0.00'
    out('\n----------- SCAN SUMMARY -----------')
    out(`Known viruses: ${service.signatureCount}`)
    // One line per reason a valid signature was not loaded (clamscan has no such lines).
    for (const [why, n] of Object.entries(service.signatures.stats.unsupportedReasons)) out(`Unsupported signatures: ${n} (${why})`)
    out(`Signature DB version: ${service.dbVersion}`)
    out(`Scanned directories: ${tally.dirs}`)
    out(`Scanned files: ${tally.files}`)
    out(`Infected files: ${tally.infected}`)
    if (tally.errors > 0) out(`Total errors: ${tally.errors}`)
    out(`Data scanned: ${mb(tally.bytesScanned)} MB`)
    out(`Data read: ${mb(tally.bytesRead)} MB (ratio ${ratio}:1)`)
    out(`Time: ${secs.toFixed(3)} sec (${Math.floor(secs / 60)} m ${Math.floor(secs % 60)} s)`)
  }
  return tally.infected > 0 ? 1 : tally.errors > 0 ? 2 : 0
}
