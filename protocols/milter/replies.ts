/// Filter → MTA packets, byte for byte: the negotiation reply (with the macro lists the filter
/// asks for), the verdicts, progress, and the modifications of the end-of-message phase. Pure: every
/// builder returns the framed packet.
import { MacroStage, Reply, milterVersion, type MacroStageName } from './constants.js'

/// A modification sent after end of message, before the verdict (the `index` of a change is the
/// n-th header of that name, from 1; of an insert, the position among all headers, 0 = first).
export type Modification =
  | { readonly kind: 'addHeader', readonly name: string, readonly value: string }
  | { readonly kind: 'changeHeader', readonly index: number, readonly name: string, readonly value: string }
  | { readonly kind: 'insertHeader', readonly index: number, readonly name: string, readonly value: string }
  /// Postfix: the message goes to the hold queue; the reason is logged (cut to 100 characters there).
  | { readonly kind: 'quarantine', readonly reason: string }

/// The final answer for a message (or for a step before it).
export type VerdictReply =
  | { readonly kind: 'continue' | 'accept' | 'reject' | 'tempfail' | 'discard' }
  /// A custom SMTP reply: `550 5.7.1 text` (5xx rejects, 4xx defers).
  | { readonly kind: 'reply', readonly code: string, readonly text: string }

export function packet (command: number, data: Uint8Array = new Uint8Array(0)): Buffer {
  const out = Buffer.allocUnsafe(5 + data.length)
  out.writeUInt32BE(data.length + 1, 0)
  out[4] = command
  out.set(data, 5)
  return out
}

const z = (text: string, encoding: BufferEncoding = 'utf8'): Buffer => Buffer.concat([Buffer.from(text, encoding), Buffer.from([0])])
const u32 = (n: number): Buffer => { const b = Buffer.alloc(4); b.writeUInt32BE(n >>> 0); return b }

/// The reply to option negotiation: version 6, the actions and step flags the filter takes, and per
/// stage the macros it wants (space-separated names, braces as the MTA spells them).
export function negotiate (actions: number, steps: number, macros: Partial<Record<MacroStageName, readonly string[]>> = {}): Buffer {
  const parts: Buffer[] = [u32(milterVersion), u32(actions), u32(steps)]
  for (const [stage, names] of Object.entries(macros) as Array<[MacroStageName, readonly string[]]>) {
    if (names.length === 0) continue
    parts.push(u32(MacroStage[stage]), z(names.join(' ')))
  }
  return packet(Reply.optneg, Buffer.concat(parts))
}

/// Text for an SMTP reply: NUL and CR/LF cannot be carried; a literal `%` is doubled (Postfix and
/// Sendmail read the text as a format).
function replyText (text: string): string {
  return oneLine(text).replace(/%/g, '%%')
}

const oneLine = (text: string): string => text.replace(/[\0\r\n]+/g, ' ')

export function verdict (v: VerdictReply): Buffer {
  switch (v.kind) {
    case 'continue': return packet(Reply.continue)
    case 'accept': return packet(Reply.accept)
    case 'reject': return packet(Reply.reject)
    case 'tempfail': return packet(Reply.tempfail)
    case 'discard': return packet(Reply.discard)
    case 'reply': return packet(Reply.replyCode, z(`${v.code} ${replyText(v.text)}`))
  }
}

export const progress = (): Buffer => packet(Reply.progress)

/// Header text sent to the MTA: no NUL, and line ends only as folding (CRLF or LF followed by a blank).
function headerText (value: string): string {
  return value.replace(/\0/g, '').replace(/\r?\n(?![ \t])/g, ' ')
}

export function modification (m: Modification): Buffer {
  switch (m.kind) {
    case 'addHeader': return packet(Reply.addHeader, Buffer.concat([z(m.name, 'latin1'), z(headerText(m.value), 'latin1')]))
    case 'changeHeader': return packet(Reply.changeHeader, Buffer.concat([u32(m.index), z(m.name, 'latin1'), z(headerText(m.value), 'latin1')]))
    case 'insertHeader': return packet(Reply.insertHeader, Buffer.concat([u32(m.index), z(m.name, 'latin1'), z(headerText(m.value), 'latin1')]))
    case 'quarantine': return packet(Reply.quarantine, z(oneLine(m.reason)))
  }
}
