/// Engine benchmark: signature DB load (cold compile, warm start from the compiled cache), RSS with 1
/// and 4 workers, raw scan throughput on clean data, side by side in one run with clamscan and
/// clamd --multiscan loading the same peer-scale DB (../shared/peers/gen-db.py). Returns a markdown
/// table. `node dist/bench/engine.js [--mb N] [--scale]` runs it alone; --scale adds the 8M-hash +
/// 150k-body DB (minutes; not for CI).
import { execFile } from 'node:child_process'
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { randomBytes } from 'node:crypto'
import { cpus, tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { promisify } from 'node:util'
import { pino } from 'pino'
import { loadDb } from '../src/engine/signatures/cache.js'
import { Matcher } from '../src/engine/matcher/matcher.js'
import { signatureCount } from '../src/engine/matcher/build.js'
import { ScanService } from '../src/scan/service.js'
import { Metrics } from '../src/metrics.js'
import { Clamd, timed } from './clamav-peer.js'

const run = promisify(execFile)
const child = fileURLToPath(new URL('./engine-child.js', import.meta.url))
const genDb = fileURLToPath(new URL('../../../shared/peers/gen-db.py', import.meta.url))

export interface EngineBenchOptions { readonly corpusMb?: number, readonly scale?: boolean }

const mib = (n: number): string => (n / (1 << 20)).toFixed(1)
const mbps = (bytes: number, ms: number): number => bytes / 1e6 / (ms / 1000)

/// Clean corpus: half random binary, half ASCII text (seeded xorshift words), in 8 MiB files.
function makeCorpus (dir: string, totalMb: number): number {
  mkdirSync(dir, { recursive: true })
  const words = ['the', 'scan', 'proxy', 'gateway', 'content', 'signature', 'report', 'network', 'data', 'policy', 'server', 'request', 'object', 'header', 'value', 'index']
  let seed = 0x12345678
  const next = (): number => { seed ^= seed << 13; seed ^= seed >>> 17; seed ^= seed << 5; return seed >>> 0 }
  const fileBytes = 8 << 20
  const files = Math.max(2, Math.round(totalMb / 8))
  let total = 0
  for (let i = 0; i < files; i++) {
    let data: Buffer
    if (i % 2 === 0) {
      data = randomBytes(fileBytes)
    } else {
      const parts: string[] = []
      let len = 0
      while (len < fileBytes) {
        const w = `${words[next() % words.length] ?? ''}${next() % 7 === 0 ? (next() % 1000).toString() : ''}${next() % 11 === 0 ? '.\n' : ' '}`
        parts.push(w)
        len += w.length
      }
      data = Buffer.from(parts.join('').slice(0, fileBytes), 'latin1')
    }
    writeFileSync(join(dir, `clean-${i}.${i % 2 === 0 ? 'bin' : 'txt'}`), data)
    total += data.length
  }
  return total
}

async function childJson<T> (...args: string[]): Promise<T> {
  const { stdout } = await run(process.execPath, [child, ...args], { maxBuffer: 1 << 20 })
  return JSON.parse(stdout) as T
}

/// Raw single-thread matcher speed on one corpus file (no pool, no I/O).
function rawMatch (m: Matcher, bytes: Uint8Array): number {
  const t = performance.now()
  const s = m.begin('unknown', bytes.length)
  for (let at = 0; at < bytes.length; at += 1 << 20) s.push(bytes.subarray(at, at + (1 << 20)))
  if (s.end().length !== 0) throw new Error('clean corpus matched a signature')
  return mbps(bytes.length, performance.now() - t)
}

async function scanwallThroughput (dbDir: string, corpus: string, workers: number, spool: string): Promise<{ ms: number, bytes: number }> {
  const service = await ScanService.start({ workers, maxQueue: 10_000, workerMaxOldGenMb: 1024, memoryLimit: 1 << 20, spoolDir: spool, timeoutMs: 600_000, signaturesDir: dbDir, signaturesCacheDir: join(tmpdir(), 'scanwall-bench-cache') }, new Metrics(), pino({ level: 'silent' }))
  try {
    const files = readdirSync(corpus).map(f => join(corpus, f))
    const t = performance.now()
    let bytes = 0
    const verdicts = await Promise.all(files.map(async path => {
      const size = statSync(path).size
      bytes += size
      return (await service.scan({ kind: 'file', path, size }, { service: 'bench' }, new AbortController().signal)).verdict
    }))
    const ms = performance.now() - t
    const bad = verdicts.find(v => v.status !== 'clean')
    if (bad !== undefined) throw new Error(`clean corpus scanned as ${bad.status}: ${JSON.stringify(bad.findings)}`)
    return { ms, bytes }
  } finally {
    await service.close()
  }
}

async function dbRows (dbDir: string, label: string): Promise<string[]> {
  const rows: string[] = []
  const t = performance.now()
  const cold = await loadDb(dbDir, { lenient: false, useCache: false })
  const coldMs = performance.now() - t
  rows.push(`| ${label}: signatures loaded | ${signatureCount(cold.db)} | | compiled size ${mib(cold.db.buffer.byteLength)} MiB (one SharedArrayBuffer) |`)
  rows.push(`| ${label}: cold load (parse + compile, in-process) | ${(coldMs / 1000).toFixed(2)} s | | |`)
  rmSync(join(tmpdir(), 'scanwall-bench-cache'), { recursive: true, force: true })
  const first = await childJson<{ ms: number, fromCache: boolean }>('load', dbDir) // writes the cache
  const warm = await childJson<{ ms: number, fromCache: boolean, processMs: number, rss: number }>('load', dbDir)
  rows.push(`| ${label}: warm start from the compiled cache (fresh process) | ${(warm.ms / 1000).toFixed(3)} s (process ${(warm.processMs / 1000).toFixed(2)} s) | | cold in that process ${(first.ms / 1000).toFixed(2)} s; fromCache=${String(warm.fromCache)}; RSS ${mib(warm.rss)} MiB |`)
  return rows
}

export async function runEngineBench (options: EngineBenchOptions = {}): Promise<string> {
  const root = mkdtempSync(join(tmpdir(), 'scanwall-engine-bench-'))
  let clamd: Clamd | undefined
  try {
    const dbDir = join(root, 'db')
    await run('python3', [genDb, dbDir, '--seed', '20240601', '--hdb', '100000', '--ndb', '20000'])
    const corpus = join(root, 'corpus')
    const corpusBytes = makeCorpus(corpus, options.corpusMb ?? 128)
    const rows = [
      '| measurement | Scanwall | ClamAV 1.4 (same DB) | notes |',
      '|---|---:|---:|---|',
    ]
    rows.push(...await dbRows(dbDir, 'peer DB (100k hdb + 20k ndb)'))
    const clamLoad = await timed('clamscan', ['--no-summary', '-d', dbDir, join(corpus, 'clean-1.txt')])
    rows.push(`| clamscan load + 8 MiB text scan | | ${(clamLoad.ms / 1000).toFixed(2)} s | |`)
    const started = await Clamd.start(join(root, 'clamd'), dbDir)
    clamd = started.clamd
    const rss1 = await childJson<{ rss: number, readyMs: number }>('rss', dbDir, '1')
    const rss4 = await childJson<{ rss: number, readyMs: number }>('rss', dbDir, '4')
    rows.push(`| DB ready (clamd: start → PONG; Scanwall: ScanService with 1 worker, warm) | ${(rss1.readyMs / 1000).toFixed(2)} s | ${(started.readyMs / 1000).toFixed(2)} s | |`)
    rows.push(`| RSS, 1 worker (clamd: after load) | ${mib(rss1.rss)} MiB | ${mib(clamd.rssKib * 1024)} MiB | |`)
    rows.push(`| RSS, 4 workers | ${mib(rss4.rss)} MiB | | ratio 4/1 = **${(rss4.rss / rss1.rss).toFixed(2)}x** (target ≤ 1.5x) |`)
    const reload = await childJson<{ steady: number, cold: number, warm: number, dbBytes: number }>('reload', dbDir, '2')
    const theirs = await clamd.reloadPeakBytes()
    rows.push(`| DB reload: peak RSS ÷ steady RSS (Scanwall: 2 workers, compile on a background thread then pool swap; clamd: RELOAD, its concurrent reload) | cold **${(reload.cold / reload.steady).toFixed(2)}x**, from the compiled cache ${(reload.warm / reload.steady).toFixed(2)}x (steady ${mib(reload.steady)} MiB) | **${(theirs.peak / theirs.steady).toFixed(2)}x** (steady ${mib(theirs.steady)} MiB) | peak − steady = ${((reload.cold - reload.steady) / reload.dbBytes).toFixed(2)} compiled DBs (${mib(reload.dbBytes)} MiB each); target: below twice one DB |`)
    const workers = cpus().length
    const ours = await scanwallThroughput(dbDir, corpus, workers, join(root, 'spool'))
    const theirsMs = await clamd.multiscan(corpus)
    clamd.stop()
    clamd = undefined
    const ourRate = mbps(ours.bytes, ours.ms)
    const theirRate = mbps(corpusBytes, theirsMs)
    rows.push(`| clean corpus ${mib(corpusBytes)} MiB (½ random, ½ text), ${workers} workers vs clamd --multiscan | **${ourRate.toFixed(1)} MB/s** | ${theirRate.toFixed(1)} MB/s | **${(ourRate / theirRate).toFixed(1)}x** clamd (target 10x) |`)
    const clamscan = await timed('clamscan', ['--no-summary', '-r', '-d', dbDir, corpus])
    rows.push(`| same corpus, one process (Scanwall: raw matcher, one thread; clamscan incl. its DB load) | | ${mbps(corpusBytes, clamscan.ms).toFixed(1)} MB/s | |`)
    const { db } = await loadDb(dbDir, { lenient: false, cacheDir: join(tmpdir(), 'scanwall-bench-cache') })
    const m = new Matcher(db)
    const { readFileSync } = await import('node:fs')
    const bin = readFileSync(join(corpus, 'clean-0.bin'))
    const txt = readFileSync(join(corpus, 'clean-1.txt'))
    const js = new Matcher(db, { kernel: false })
    // Warm the JIT on both kinds of data: text takes paths that random bytes rarely reach (more
    // anchor hits to verify), and warmed on random bytes only, the text row measured their warm-up.
    for (const warm of [bin, txt]) { rawMatch(m, warm); rawMatch(js, warm) }
    rows.push(`| raw matcher, one thread, random 8 MiB: WebAssembly anchor scan / JS loop | ${rawMatch(m, bin).toFixed(1)} / ${rawMatch(js, bin).toFixed(1)} MB/s | | no hashing: no signature names these sizes |`)
    rows.push(`| raw matcher, one thread, text 8 MiB: WebAssembly anchor scan / JS loop | ${rawMatch(m, txt).toFixed(1)} / ${rawMatch(js, txt).toFixed(1)} MB/s | | |`)
    if (options.scale === true) {
      const scaleDir = join(root, 'scale')
      await run('python3', [genDb, scaleDir, '--seed', '20240601', '--hdb', '8000000', '--ndb', '150000'], { maxBuffer: 1 << 20 })
      rows.push(...await dbRows(scaleDir, 'scale DB (8M hdb + 150k ndb)'))
      const s1 = await childJson<{ rss: number, readyMs: number }>('rss', scaleDir, '1')
      const s4 = await childJson<{ rss: number, readyMs: number }>('rss', scaleDir, '4')
      rows.push(`| scale DB: RSS with 1 / 4 workers (warm start) | ${mib(s1.rss)} / ${mib(s4.rss)} MiB | | ready in ${(s1.readyMs / 1000).toFixed(2)} s / ${(s4.readyMs / 1000).toFixed(2)} s; ratio ${(s4.rss / s1.rss).toFixed(2)}x |`)
    }
    const load = (await import('node:os')).loadavg().map(x => x.toFixed(1)).join(' ')
    return `### Engine: signature DB and raw scan throughput\n\nMeasured in one run on this machine (${cpus().length} cores, load average ${load}); MB = 10^6 bytes.\n\n${rows.join('\n')}\n`
  } finally {
    clamd?.stop()
    rmSync(root, { recursive: true, force: true })
    rmSync(join(tmpdir(), 'scanwall-bench-cache'), { recursive: true, force: true })
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const args = process.argv.slice(2)
  const mbAt = args.indexOf('--mb')
  runEngineBench({ scale: args.includes('--scale'), ...(mbAt >= 0 ? { corpusMb: Number(args[mbAt + 1]) } : {}) }).then(
    table => { process.stdout.write(table) },
    (err: unknown) => { process.stderr.write(`${err instanceof Error ? err.stack ?? err.message : String(err)}\n`); process.exitCode = 1 }
  )
}
