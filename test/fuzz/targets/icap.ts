/// The ICAP target: mutated golden requests (test/fixtures/icap, EICAR spliced in) fed to the
/// incremental parser in random chunk splits, driven as a connection drives it (100 Continue or a
/// final answer after a preview, next() after each end). The parser reports bad input as an `error`
/// event with a code from the error table; anything thrown, an unknown code, events after an error,
/// or more output than input is a crash. A parser that loops never answers: the harness sees a hang.
/// The parser is reached only here, through its public entry, so moving it means editing one import.
import { readdirSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { join } from 'node:path'
import { IcapParser, icapErrors, type IcapEvent } from 'icap-server-lite'
import { withEicar } from '../../helpers/eicar.js'
import type { Rng } from '../prng.js'
import { split } from '../split.js'
import type { CaseResult, Runner, Seed, TargetKind } from '../target.js'

const fixtureDir = fileURLToPath(new URL('../../../../test/fixtures/icap/', import.meta.url))
const limits = { maxHeaderBytes: 8192, maxHeaderCount: 50, maxChunkBytes: 1 << 30 }

function seeds (): Seed[] {
  return readdirSync(fixtureDir).filter(n => n.endsWith('.request')).sort().map(name => ({
    target: 'icap',
    variant: name,
    bytes: withEicar(readFileSync(join(fixtureDir, name))),
    layout: 'chunked' as const,
    protect: 0,
    keeps: 'a parser target: no scan, nothing to find',
  }))
}

function drive (bytes: Buffer, rng: Rng): CaseResult {
  const parser = new IcapParser(limits)
  let events = 0
  let bodyBytes = 0
  let heads = 0
  let failed: string | undefined
  const broken = (detail: string): CaseResult => ({ outcome: 'crash', detail, checked: false, kept: false })
  // Returns a contract breach, if any; recurses as a connection would after preview-end and end.
  const handle = (list: readonly IcapEvent[]): string | undefined => {
    for (const e of list) {
      events++
      if (failed !== undefined) return `event ${e.kind} after error ${failed}`
      switch (e.kind) {
        case 'head': heads++; break
        case 'body': bodyBytes += e.data.length; break
        case 'preview-end': { const bad = handle(parser.afterPreview(rng.chance(0.8))); if (bad !== undefined) return bad; break }
        case 'end': { const bad = handle(parser.next()); if (bad !== undefined) return bad; break }
        case 'error': {
          const { code, status } = e.failure
          if (!(code in icapErrors) || !Number.isInteger(status) || status < 400 || status > 599) return `untyped parser error ${code}/${status}`
          failed = code
          break
        }
      }
    }
    return undefined
  }
  for (const piece of split(bytes, rng)) {
    let bad: string | undefined
    try {
      bad = handle(parser.push(piece))
    } catch (err) {
      return broken(`parser threw: ${err instanceof Error ? err.stack ?? err.message : String(err)}`)
    }
    if (bad !== undefined) return broken(bad)
  }
  if (bodyBytes > bytes.length || events > 2 * bytes.length + 8 || parser.heldBytes > bytes.length) {
    return broken(`output exceeds input: ${events} events, ${bodyBytes} body bytes, ${parser.heldBytes} held, from ${bytes.length} bytes`)
  }
  return { outcome: 'ok', detail: failed ?? `${heads} request(s)`, checked: false, kept: false }
}

async function runner (): Promise<Runner> {
  return { run: async (mutant, _seed, rng) => drive(mutant.bytes, rng) }
}

export const icapTarget: TargetKind = { names: ['icap'], seeds, runner }
