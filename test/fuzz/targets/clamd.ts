/// The clamd target: mutated clamd requests (every framing, INSTREAM with EICAR in one and in many
/// chunks, pipelined IDSESSIONs) fed to the incremental clamd parser in random chunk splits, driven
/// as a connection drives it (outside a session the first command is the last; what the parser
/// returned after the connection's last command is dropped, as the connection drops it). Contract: nothing
/// thrown; no event after the parser stopped itself (over-limit stream, malformed line); stream
/// bytes only between INSTREAM and its end, never more than the limit nor more than the input; no
/// more events than input bytes. A parser that loops never answers: the harness sees a hang.
import { ClamdParser, type ClamdEvent } from '../../../protocols/clamd/index.js'
import { eicar } from '../../helpers/eicar.js'
import { instream } from '../../helpers/clamd-client.js'
import type { Rng } from '../prng.js'
import { split } from '../split.js'
import type { CaseResult, Runner, Seed, TargetKind } from '../target.js'

const limits = { maxCommandBytes: 1024, streamMaxBytes: 64 * 1024 }

const requests: Record<string, Buffer> = {
  'z-ping': Buffer.from('zPING\0'),
  'n-version': Buffer.from('nVERSION\n'),
  'old-scan': Buffer.from('SCAN /var/tmp/sample.bin\n'),
  'z-contscan': Buffer.from('zCONTSCAN /var/tmp/dir\0'),
  'instream-one-chunk': instream('z', eicar),
  'instream-small-chunks': instream('n', eicar, 5),
  'instream-huge-length': Buffer.concat([Buffer.from('zINSTREAM\0'), Buffer.from([0xff, 0xff, 0xff, 0xff])]),
  session: Buffer.concat([Buffer.from('zIDSESSION\0zPING\0nVERSION\nzSCAN /tmp/x\0'), instream('z', eicar, 16), Buffer.from('zSTATS\0zEND\0')]),
}

function seeds (): Seed[] {
  return Object.entries(requests).map(([variant, bytes]) => ({
    target: 'clamd', variant, bytes, layout: 'none' as const, protect: 0, keeps: 'a parser target: no scan, nothing to find',
  }))
}

function drive (bytes: Buffer, rng: Rng): CaseResult {
  const parser = new ClamdParser(limits)
  let session = false
  let streaming = false
  let streamed = 0
  let chunkBytes = 0
  let events = 0
  let ended: string | undefined
  let driverStopped = false
  const broken = (detail: string): CaseResult => ({ outcome: 'crash', detail, checked: false, kept: false })
  const handle = (e: ClamdEvent): string | undefined => {
    events++
    if (ended !== undefined) return `event ${e.kind} after ${ended}`
    switch (e.kind) {
      case 'command':
        if (streaming) return 'command inside a stream'
        if (e.command.name === 'IDSESSION' && !session) session = true
        else if (e.command.name === 'INSTREAM') { streaming = true; streamed = 0 } else if (!session || e.command.name === 'END') { parser.stop(); driverStopped = true; ended = 'the last command' }
        return undefined
      case 'unknown':
        parser.stop()
        driverStopped = true
        ended = 'UNKNOWN COMMAND'
        return undefined
      case 'chunk':
        if (!streaming) return 'stream bytes outside INSTREAM'
        streamed += e.bytes.length
        chunkBytes += e.bytes.length
        return streamed > limits.streamMaxBytes ? `stream of ${streamed} bytes past the limit` : undefined
      case 'streamEnd':
        if (!streaming) return 'stream end outside INSTREAM'
        streaming = false
        if (!session) { parser.stop(); driverStopped = true; ended = 'the stream' }
        return undefined
      case 'streamTooLarge':
        if (!streaming) return 'size limit outside INSTREAM'
        ended = 'the size limit'
        return parser.stopped ? undefined : 'parser still reading after the size limit'
      case 'malformed':
        ended = e.reason
        return parser.stopped ? undefined : 'parser still reading after a malformed line'
    }
  }
  for (const piece of split(bytes, rng)) {
    try {
      for (const e of parser.push(piece)) {
        // The connection drops what was parsed after its last command (it stopped the parser).
        if (driverStopped) break
        const bad = handle(e)
        if (bad !== undefined) return broken(bad)
      }
    } catch (err) {
      return broken(`parser threw: ${err instanceof Error ? err.stack ?? err.message : String(err)}`)
    }
  }
  if (chunkBytes > bytes.length || events > bytes.length + 8) return broken(`output exceeds input: ${events} events, ${chunkBytes} stream bytes, from ${bytes.length} bytes`)
  return { outcome: 'ok', detail: ended ?? (session ? 'open session' : 'incomplete'), checked: false, kept: false }
}

async function runner (): Promise<Runner> {
  return { run: async (mutant, _seed, rng) => drive(mutant.bytes, rng) }
}

export const clamdTarget: TargetKind = { names: ['clamd'], seeds, runner }
