/// The INSTREAM load generator of the clamd cell: `concurrency` connections in a loop, each sending
/// one clean body per connection (`zINSTREAM\0`, 64 KiB chunks, terminator, half-close, as clamdscan
/// does) and reading the reply to EOF, for `seconds`. A reply other than `stream: OK` is an error.
/// Bodies differ per request (a counter in the first bytes) so nothing can answer from a cache. The
/// same generator drives clamd and Scanwall.
///
/// It shares the 2 CPUs with the server it measures, so it must cost little per request: each lane
/// frames its request once and only stamps the counter into it (the buffer is free again when the
/// reply's EOF arrives, since the server reads the whole stream before it answers). Framing every
/// request anew (a copy of the body, a copy per chunk, a concatenation: 3 MiB of copies per 1 MiB
/// object) took more CPU than Scanwall's scan of it.
import { connect } from 'node:net'
import { randomBytes } from 'node:crypto'
import { instream } from '../test/helpers/clamd-client.js'

export interface ClamdCellResult {
  readonly requests: number
  readonly errors: number
  readonly rps: number
  readonly MBps: number
  readonly p50: number
  readonly p99: number
  readonly errorSamples: readonly string[]
}

const chunkBytes = 64 * 1024

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

export async function instreamLoad (socketPath: string, size: number, concurrency: number, seconds: number): Promise<ClamdCellResult> {
  const template = instream('z', randomBytes(size), chunkBytes)
  const latencies: number[] = []
  const samples: string[] = []
  let errors = 0
  let counter = 0
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
  latencies.sort((a, b) => a - b)
  const at = (q: number): number => Math.round((latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * q))] ?? 0) * 10) / 10
  return {
    requests: latencies.length,
    errors,
    rps: Math.round(latencies.length / elapsed * 10) / 10,
    MBps: Math.round(latencies.length * size / 1e6 / elapsed * 10) / 10,
    p50: at(0.5),
    p99: at(0.99),
    errorSamples: samples,
  }
}
