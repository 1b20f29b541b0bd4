/// Helper process for bench/engine.ts: measurements that need a fresh process (a warm start from the
/// compiled cache, RSS with N workers). Prints one JSON line.
///   node dist/bench/engine-child.js load DBDIR
///   node dist/bench/engine-child.js rss DBDIR WORKERS SPOOLDIR
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pino } from 'pino'
import { loadDb } from '../src/engine/signatures/cache.js'
import { ScanService } from '../src/scan/service.js'
import { Metrics } from '../src/metrics.js'

const [mode = '', dbDir = '', workersText = '1'] = process.argv.slice(2)

async function main (): Promise<object> {
  const cacheDir = join(tmpdir(), 'scanwall-bench-cache')
  if (mode === 'load') {
    const t = performance.now()
    const { db, fromCache } = await loadDb(dbDir, { lenient: false, cacheDir })
    const ms = performance.now() - t
    return { ms, fromCache, processMs: performance.now(), rss: process.memoryUsage().rss, bytes: db.buffer.byteLength }
  }
  if (mode === 'rss') {
    const workers = Number(workersText)
    const t = performance.now()
    const spoolDir = mkdtempSync(join(tmpdir(), 'scanwall-bench-spool-'))
    const service = await ScanService.start({ workers, maxQueue: 1000, workerMaxOldGenMb: 1024, memoryLimit: 1 << 20, spoolDir, timeoutMs: 60_000, signaturesDir: dbDir, signaturesCacheDir: cacheDir }, new Metrics(), pino({ level: 'silent' }))
    // Enough small scans that every worker has built its engine on the shared DB.
    const scans = []
    for (let i = 0; i < workers * 8; i++) {
      const sink = service.openSink()
      await sink.write(new Uint8Array(4096).fill(i))
      scans.push(service.scan(await sink.finish(), { service: 'bench' }, new AbortController().signal))
    }
    await Promise.all(scans)
    const readyMs = performance.now() - t
    await new Promise(resolve => setTimeout(resolve, 500))
    const rss = process.memoryUsage().rss
    await service.close()
    rmSync(spoolDir, { recursive: true, force: true })
    return { workers, rss, readyMs }
  }
  throw new Error(`unknown mode ${mode}`)
}

main().then(r => { process.stdout.write(`${JSON.stringify(r)}\n`) }, (err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack ?? err.message : String(err)}\n`)
  process.exitCode = 1
})
