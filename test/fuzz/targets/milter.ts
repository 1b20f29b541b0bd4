/// The milter target: mutated MTA sessions (negotiation, envelope, headers, body with EICAR in one
/// and in many packets, abort between messages, a packet over the limit) fed to the incremental
/// milter parser in random chunk splits. Contract: nothing thrown; no event after `malformed`
/// (the parser stops itself); body bytes never more than the input; no more events than input
/// bytes. A parser that loops never answers: the harness sees a hang.
import { MilterParser } from '../../../protocols/milter/index.js'
import { eicar } from '../../helpers/eicar.js'
import { messagePackets, mta } from '../../helpers/milter-client.js'
import type { Rng } from '../prng.js'
import { split } from '../split.js'
import type { CaseResult, Runner, Seed, TargetKind } from '../target.js'

const limits = { maxPacketBytes: 70_000 }

const envelope = (): Buffer[] => [mta.optneg(), mta.macros('C', { j: 'mx', '{client_addr}': '192.0.2.1' }), mta.connect('c', '192.0.2.1'), mta.helo('c'), mta.macros('M', { i: 'Q1' }), mta.mail('<a@b>', 'SIZE=10'), mta.rcpt('<c@d>')]
const mail = `From: a@b\r\nSubject: s\r\nContent-Type: text/plain\r\n\r\n${Buffer.from(eicar).toString('latin1')}\r\n`

const sessions: Record<string, Buffer> = {
  'one-message': Buffer.concat([...envelope(), ...messagePackets(mail), mta.quit()]),
  'small-body-packets': Buffer.concat([...envelope(), ...messagePackets(mail, 7), mta.abort(), mta.quit()]),
  'two-messages': Buffer.concat([...envelope(), ...messagePackets(mail), mta.abort(), mta.mail('<x@y>'), mta.rcpt('<z@w>'), ...messagePackets('Subject: 2\r\n\r\nb\r\n')]),
  'huge-length': Buffer.concat([mta.optneg(), Buffer.from([0xff, 0xff, 0xff, 0xff, 0x42])]),
}

function seeds (): Seed[] {
  return Object.entries(sessions).map(([variant, bytes]) => ({ target: 'milter', variant, bytes, layout: 'none' as const, protect: 0, keeps: 'a parser target: no scan, nothing to find' }))
}

function drive (bytes: Buffer, rng: Rng): CaseResult {
  const parser = new MilterParser(limits)
  let events = 0
  let bodyBytes = 0
  let ended: string | undefined
  const broken = (detail: string): CaseResult => ({ outcome: 'crash', detail, checked: false, kept: false })
  for (const piece of split(bytes, rng)) {
    try {
      for (const e of parser.push(piece)) {
        events++
        if (ended !== undefined) return broken(`event ${e.kind} after ${ended}`)
        if (e.kind === 'body' || e.kind === 'eom') bodyBytes += e.bytes.length
        if (e.kind === 'malformed') {
          ended = e.reason
          if (!parser.stopped) return broken('parser still reading after a malformed packet')
        }
      }
    } catch (err) {
      return broken(`parser threw: ${err instanceof Error ? err.stack ?? err.message : String(err)}`)
    }
  }
  if (bodyBytes > bytes.length || events > bytes.length) return broken(`output exceeds input: ${events} events, ${bodyBytes} body bytes, from ${bytes.length} bytes`)
  return { outcome: 'ok', detail: ended ?? 'read to the end', checked: false, kept: false }
}

async function runner (): Promise<Runner> {
  return { run: async (mutant, _seed, rng) => drive(mutant.bytes, rng) }
}

export const milterTarget: TargetKind = { names: ['milter'], seeds, runner }
