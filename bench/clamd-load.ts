/// The INSTREAM load generator of the clamd cell: `concurrency` connections in a loop, each sending
/// one clean body per connection (`zINSTREAM\0`, 64 KiB chunks, terminator, half-close, as clamdscan
/// does) and reading the reply to EOF, for `seconds`. A reply other than `stream: OK` is an error.
/// Or (`mode: 'session'`, the C client only) as session clients do: one IDSESSION connection per
/// lane, a zINSTREAM per body on it, each reply read before the next body (clamd-load.c says how
/// that relates to clamdscan --stream -m). Bodies differ per request (a counter in the first bytes)
/// so nothing can answer from a cache. The same generator drives clamd and Scanwall.
///
/// It shares the 2 CPUs with the server it measures, so it must cost little per request. The one
/// the cell uses is clamd-load.c (built here with Debian's gcc on first use; the file says why C):
/// per request it makes the same five system calls clamdscan does, ~0.02-0.03 ms of CPU where the
/// Node client below took ~0.13 ms. The Node one is kept (`client: 'node'`) to compare with the
/// earlier runs made with it: each lane frames its request once and only stamps the counter into
/// it (framing every request anew, 3 MiB of copies per 1 MiB object, took more CPU than Scanwall's
/// scan of it).
import { connect } from 'node:net'
import { randomBytes, createHash } from 'node:crypto'
import { execFile } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { instream } from '../test/helpers/clamd-client.js'

const run = promisify(execFile)

export interface ClamdCellResult {
  readonly requests: number
  readonly errors: number
  readonly rps: number
  readonly MBps: number
  readonly p50: number
  readonly p99: number
  /// The load generator's own CPU (user + system) for the whole load, ms.
  readonly generatorCpuMs: number
  readonly errorSamples: readonly string[]
}

export type LoadClient = 'c' | 'node'
/// One connection per object, or objects one after another inside an IDSESSION per lane.
export type LoadMode = 'connection' | 'session'

const chunkBytes = 64 * 1024
const round1 = (x: number): number => Math.round(x * 10) / 10

/// clamd-load.c beside this file in the source tree (dist/bench/ → bench/).
const cSource = fileURLToPath(new URL(import.meta.url.includes('/dist/') ? '../../bench/clamd-load.c' : './clamd-load.c', import.meta.url))
let built: Promise<string> | undefined

/// The C generator's binary, compiled once per source version into the temp directory.
async function cGenerator (): Promise<string> {
  built ??= (async () => {
    const source = readFileSync(cSource)
    const binary = join(tmpdir(), `scanwall-clamd-load-${createHash('sha256').update(source).digest('hex').slice(0, 16)}`)
    if (!existsSync(binary)) {
      await run('gcc', ['-O2', '-pthread', '-o', `${binary}.tmp`, cSource]).catch((err: unknown) => {
        throw new Error(`building the clamd load generator needs gcc (Debian package gcc): ${err instanceof Error ? err.message : String(err)}`)
      })
      await run('mv', [`${binary}.tmp`, binary])
    }
    return binary
  })()
  return await built
}

interface CReport { requests: number, errors: number, elapsed: number, p50: number, p99: number, cpuMs: number, errorSamples: string[] }

async function cLoad (socketPath: string, size: number, concurrency: number, seconds: number, mode: LoadMode): Promise<ClamdCellResult> {
  const { stdout } = await run(await cGenerator(), [socketPath, String(size), String(concurrency), String(seconds), mode], { maxBuffer: 1024 * 1024 })
  const r = JSON.parse(stdout) as CReport
  return {
    requests: r.requests,
    errors: r.errors,
    rps: round1(r.requests / r.elapsed),
    MBps: round1(r.requests * size / 1e6 / r.elapsed),
    p50: round1(r.p50),
    p99: round1(r.p99),
    generatorCpuMs: r.cpuMs,
    errorSamples: r.errorSamples,
  }
}

async function once (socketPath: string, request: Buffer): Promise<string> {
  return await new Promise((resolve, reject) => {
    const socket = connect(socketPath)
    const got: Buffer[] = []
    socket.on('data', d => got.push(d))
    socket.on('error', reject)
    socket.on('close', () => resolve(Buffer.concat(got).toString('latin1')))
    socket.on('connect', () => {
      socket.end(request)
    })
  })
}

/// Where the body's first bytes sit in a framed request: after `zINSTREAM\0` and the first chunk's length.
const bodyAt = 'zINSTREAM\0'.length + 4

async function nodeLoad (socketPath: string, size: number, concurrency: number, seconds: number): Promise<ClamdCellResult> {
  const template = instream('z', randomBytes(size), chunkBytes)
  const latencies: number[] = []
  const samples: string[] = []
  let errors = 0
  let counter = 0
  const cpu = process.cpuUsage()
  const started = performance.now()
  const until = started + seconds * 1000
  const lane = async (): Promise<void> => {
    const request = Buffer.from(template)
    while (performance.now() < until) {
      request.writeUInt32BE(counter++ >>> 0, bodyAt)
      const t = performance.now()
      const reply = await once(socketPath, request).catch((err: unknown) => `error: ${String(err)}`)
      if (reply === 'stream: OK\0') latencies.push(performance.now() - t)
      else {
        errors++
        if (samples.length < 3) samples.push(reply)
      }
    }
  }
  await Promise.all(Array.from({ length: concurrency }, lane))
  const elapsed = (performance.now() - started) / 1000
  const used = process.cpuUsage(cpu)
  latencies.sort((a, b) => a - b)
  const at = (q: number): number => round1(latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * q))] ?? 0)
  return {
    requests: latencies.length,
    errors,
    rps: round1(latencies.length / elapsed),
    MBps: round1(latencies.length * size / 1e6 / elapsed),
    p50: at(0.5),
    p99: at(0.99),
    generatorCpuMs: (used.user + used.system) / 1000,
    errorSamples: samples,
  }
}

export async function instreamLoad (socketPath: string, size: number, concurrency: number, seconds: number, client: LoadClient = 'c', mode: LoadMode = 'connection'): Promise<ClamdCellResult> {
  if (client === 'c') return await cLoad(socketPath, size, concurrency, seconds, mode)
  if (mode === 'session') throw new Error('the IDSESSION load needs the C client (--client c)')
  return await nodeLoad(socketPath, size, concurrency, seconds)
}
