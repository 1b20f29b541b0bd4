/// Helper process for bench/engine.ts: measurements that need a fresh process (a warm start from the
/// compiled cache, RSS with N workers). Prints one JSON line.
///   node dist/bench/engine-child.js load DBDIR
///   node dist/bench/engine-child.js rss DBDIR WORKERS SPOOLDIR
///   node dist/bench/engine-child.js reload DBDIR WORKERS
import { appendFileSync, cpSync, mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pino } from 'pino'
import { loadDb } from '../src/engine/signatures/cache.js'
import { ScanService } from '../src/scan/service.js'
import { Metrics } from '../src/metrics.js'
import { resetPeak, statusBytes } from './memory.js'

const [mode = '', dbDir = '', workersText = '1'] = process.argv.slice(2)

async function main (): Promise<object> {
  const cacheDir = join(tmpdir(), 'scanwall-bench-cache')
  if (mode === 'load') {
    const t = performance.now()
    const { db, fromCache } = await loadDb(dbDir, { lenient: false, cacheDir })
    const ms = performance.now() - t
    return { ms, fromCache, processMs: performance.now(), rss: process.memoryUsage().rss, bytes: db.buffer.byteLength }
  }
  if (mode === 'rss' || mode === 'reload') {
    const workers = Number(workersText)
    const t = performance.now()
    const spoolDir = mkdtempSync(join(tmpdir(), 'scanwall-bench-spool-'))
    const service = await ScanService.start({ workers, maxQueue: 1000, workerMaxOldGenMb: 1024, memoryLimit: 1 << 20, spoolDir, timeoutMs: 60_000, signaturesDir: dbDir, signaturesCacheDir: cacheDir }, new Metrics(), pino({ level: 'silent' }))
    // Enough small scans that every worker has built its engine on the shared DB.
    const warmUp = async (): Promise<void> => {
      const scans = []
      for (let i = 0; i < workers * 8; i++) {
        const sink = service.openSink()
        await sink.write(new Uint8Array(4096).fill(i))
        scans.push(service.scan(await sink.finish(), { service: 'bench' }, new AbortController().signal))
      }
      await Promise.all(scans)
    }
    await warmUp()
    const readyMs = performance.now() - t
    if (mode === 'reload') {
      // Steady state, then the kernel's peak (VmHWM, reset first) over a reload of a changed copy
      // (not in the compiled cache: parse + compile on a background thread) and over a reload of
      // the original (a compiled-cache hit), each followed by scans on the new pool.
      await new Promise(resolve => setTimeout(resolve, 500))
      const steady = statusBytes(process.pid, 'VmRSS')
      const changed = mkdtempSync(join(tmpdir(), 'scanwall-bench-reload-'))
      cpSync(dbDir, changed, { recursive: true })
      const ndb = readdirSync(changed).find(f => f.endsWith('.ndb')) ?? 'extra.ndb'
      appendFileSync(join(changed, ndb), 'Bench.Reload.Marker:0:*:7363616e77616c6c2d72656c6f6164\n')
      const peakOver = async (dir: string): Promise<number> => {
        resetPeak(process.pid)
        await service.reload(dir)
        await warmUp()
        return statusBytes(process.pid, 'VmHWM')
      }
      const cold = await peakOver(changed)
      const warm = await peakOver(dbDir)
      await service.close()
      rmSync(changed, { recursive: true, force: true })
      rmSync(spoolDir, { recursive: true, force: true })
      return { workers, steady, cold, warm, dbBytes: service.signatures.buffer.byteLength }
    }
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
