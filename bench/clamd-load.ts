/// The INSTREAM load generator of the clamd cell: `concurrency` connections in a loop, each sending
/// one clean body per connection (`zINSTREAM\0`, 64 KiB chunks, terminator, half-close, as clamdscan
/// does) and reading the reply to EOF, for `seconds`. A reply other than `stream: OK` is an error.
/// Bodies differ per request (a counter in the first bytes) so nothing can answer from a cache. The
/// same generator drives clamd and Scanwall. Its own CPU per request is kept small, so that at 4 KiB
/// it is not what limits the cell on a 2-CPU machine: each lane frames its request once and only
/// rewrites the counter in place (the server has read the whole request before it replies, so the
/// buffer is free again by then); the reply is compared as bytes.
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

const okReply = Buffer.from('stream: OK\0', 'latin1')
/// Where the body's first byte sits in a zINSTREAM request: the command, then the first chunk's length.
const bodyAt = 'zINSTREAM\0'.length + 4

async function once (socketPath: string, request: Buffer): Promise<Buffer> {
  return await new Promise((resolve, reject) => {
    // connect() with the data written at once: the request goes out as soon as the socket connects.
    const socket = connect(socketPath)
    socket.end(request)
    let got: Buffer | undefined
    socket.on('data', (d: Buffer) => { got = got === undefined ? d : Buffer.concat([got, d]) })
    socket.on('error', reject)
    socket.on('close', () => { resolve(got ?? Buffer.alloc(0)) })
  })
}

export async function instreamLoad (socketPath: string, size: number, concurrency: number, seconds: number): Promise<ClamdCellResult> {
  const template = randomBytes(size)
  const latencies: number[] = []
  const samples: string[] = []
  let errors = 0
  let counter = 0
  const started = performance.now()
  const until = started + seconds * 1000
  const lane = async (): Promise<void> => {
    const request = instream('z', template, chunkBytes)
    while (performance.now() < until) {
      request.writeUInt32BE(counter++ >>> 0, bodyAt)
      const t = performance.now()
      const reply = await once(socketPath, request).catch((err: unknown) => Buffer.from(`error: ${String(err)}`))
      if (reply.equals(okReply)) latencies.push(performance.now() - t)
      else {
        errors++
        if (samples.length < 3) samples.push(reply.toString('latin1'))
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
