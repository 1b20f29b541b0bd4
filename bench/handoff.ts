/// What a hand-off to another thread costs the ICAP I/O thread, measured in-process in CPU time
/// per thread (/proc/self/task/*/stat), so the figures hold on a shared machine where req/s do not
/// (issue #11 item 6: could the second CPU match 64 KiB leaves without the hand-off eating the gain?).
/// Three rows, unique random bodies, K scans in flight:
/// - `ScanService.scan`, leaf matched inline (scan.inlineMaxBytes 64 KiB) against handed to the
///   Piscina pool (inlineMaxBytes 0; the worker walks the body), with the peer-scale DB;
/// - a bare MessagePort round trip (the body transferred to a worker that answers at once): the
///   floor of any hand-off without Piscina's queue.
/// `node dist/bench/handoff.js [--size 65536] [--scans 1000] [--in-flight 3] [--rounds 3]`.
/// Not part of `npm run bench`: a tool for the per-request cost work (BENCHMARKS.md, branch icap64).
import { execFile } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { promisify } from 'node:util'
import { Worker } from 'node:worker_threads'
import { pino } from 'pino'
import { ScanService } from '../src/scan/service.js'
import { Metrics } from '../src/metrics.js'
import { load } from './machine.js'

const run = promisify(execFile)
const peers = fileURLToPath(new URL('../../../shared/peers/', import.meta.url))
const clockTicksUs = 1e6 / 100
const callingThread = String(process.pid)

export interface HandoffOptions { readonly size: number, readonly scans: number, readonly inFlight: number, readonly rounds: number }

/// CPU time (µs) of every thread of this process, by thread id.
function threadCpu (): Map<string, number> {
  const out = new Map<string, number>()
  for (const tid of readdirSync('/proc/self/task')) {
    try {
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'latin1')
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      out.set(tid, (Number(fields[11]) + Number(fields[12])) * clockTicksUs)
    } catch {} // a thread that ended between the listing and the read
  }
  return out
}

/// Runs `jobs` jobs, `inFlight` at a time; returns µs of CPU per job on this thread and on all others.
async function measure (jobs: number, inFlight: number, job: (i: number) => Promise<void>): Promise<{ calling: number, others: number }> {
  const before = threadCpu()
  let next = 0
  await Promise.all(Array.from({ length: inFlight }, async () => { while (next < jobs) await job(next++) }))
  const after = threadCpu()
  let others = 0
  for (const [tid, us] of after) if (tid !== callingThread) others += us - (before.get(tid) ?? 0)
  return { calling: ((after.get(callingThread) ?? 0) - (before.get(callingThread) ?? 0)) / jobs, others: others / jobs }
}

/// A fresh body per scan (as a sink hands one over), unique so no cache could answer.
function body (seed: Uint8Array, i: number): ArrayBuffer {
  const bytes = new Uint8Array(seed.length)
  bytes.set(seed)
  new DataView(bytes.buffer).setUint32(0, i)
  return bytes.buffer
}

/// A worker that hands every message straight back: the cost of the two wake-ups and the transfer.
const echoWorker = "require('node:worker_threads').parentPort.on('message', b => { require('node:worker_threads').parentPort.postMessage(b.byteLength) })"

async function portRoundTrip (options: HandoffOptions, seed: Uint8Array): Promise<{ calling: number, others: number }> {
  const worker = new Worker(echoWorker, { eval: true })
  try {
    await new Promise<void>(resolve => { worker.once('online', () => { resolve() }) })
    // One message in flight: answers come back in order, so a queue of waiters matches them.
    const waiting: Array<() => void> = []
    worker.on('message', () => { waiting.shift()?.() })
    return await measure(options.scans, 1, async i => {
      const bytes = body(seed, i)
      await new Promise<void>(resolve => { waiting.push(resolve); worker.postMessage(bytes, [bytes]) })
    })
  } finally {
    await worker.terminate()
  }
}

export async function runHandoffBench (options: HandoffOptions): Promise<string> {
  const root = mkdtempSync(join(tmpdir(), 'scanwall-handoff-bench-'))
  const services: ScanService[] = []
  try {
    const db = join(root, 'db')
    await run('python3', [join(peers, 'gen-db.py'), db, '--seed', '20240601', '--hdb', '100000', '--ndb', '20000'])
    const start = async (inlineMaxBytes: number): Promise<ScanService> => {
      const service = await ScanService.start({ workers: 2, maxQueue: 256, workerMaxOldGenMb: 512, inlineMaxBytes, memoryLimit: 2 << 20, spoolDir: join(root, 'spool'), timeoutMs: 120_000, signaturesDir: db, signaturesCacheDir: join(root, 'compiled') }, new Metrics(), pino({ level: 'silent' }))
      services.push(service)
      return service
    }
    const inline = await start(64 * 1024)
    const pool = await start(0)
    const seed = randomBytes(options.size)
    const context = { service: 'bench', method: 'RESPMOD', client: '127.0.0.1', url: 'http://bench/' }
    const never = new AbortController().signal
    const scanWith = (service: ScanService) => async (i: number): Promise<void> => {
      const bytes = body(seed, i)
      const { verdict } = await service.scan({ kind: 'memory', bytes, size: bytes.byteLength }, context, never)
      if (verdict.status !== 'clean') throw new Error(`bench body scanned ${verdict.status}`)
    }
    const rows = [`${options.size} B bodies, ${options.scans} per cell, ${options.inFlight} in flight; CPU µs per scan (calling thread / all other threads)`, '',
      '| round | inline leaf scan | Piscina pool | bare MessagePort round trip (1 in flight) | load |', '|---|--:|--:|--:|--:|']
    const cell = (c: { calling: number, others: number }): string => `${c.calling.toFixed(0)} / ${c.others.toFixed(0)}`
    for (let round = 1; round <= options.rounds; round++) {
      const a = await measure(options.scans, options.inFlight, scanWith(inline))
      const b = await measure(options.scans, options.inFlight, scanWith(pool))
      const c = await portRoundTrip(options, seed)
      rows.push(`| ${round} | ${cell(a)} | ${cell(b)} | ${cell(c)} | ${load()} |`)
    }
    return rows.join('\n')
  } finally {
    for (const service of services) await service.close()
    rmSync(root, { recursive: true, force: true })
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const args = process.argv.slice(2)
  const number = (name: string, fallback: number): number => { const at = args.indexOf(name); return at >= 0 ? Number(args[at + 1]) : fallback }
  runHandoffBench({ size: number('--size', 65536), scans: number('--scans', 1000), inFlight: number('--in-flight', 3), rounds: number('--rounds', 3) })
    .then(md => { process.stdout.write(`${md}\n`) }, (err: unknown) => {
      process.stderr.write(`handoff bench failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`)
      process.exitCode = 1
    })
}
