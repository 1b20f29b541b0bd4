/// Messages to learn from: an mbox file (messages split at "From " lines, the `>From ` quoting of
/// mboxrd undone) or a directory of one-file-per-message (Maildir's cur/new, MH, the SpamAssassin
/// corpus layout), read recursively. Files that are not mail (an index, a dot-file) are skipped
/// by name; each message is capped so one huge file cannot take the memory.
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'

const maxMessageBytes = 10 * 1024 * 1024

/// Splits an mbox into messages.
export function splitMbox (text: Buffer): Buffer[] {
  const s = text.toString('latin1')
  const out: Buffer[] = []
  const starts: number[] = []
  const from = /^From [^\r\n]*\r?\n/gm
  for (let m = from.exec(s); m !== null; m = from.exec(s)) starts.push(m.index, m.index + m[0].length)
  for (let i = 0; i < starts.length; i += 2) {
    const body = s.slice(starts[i + 1], starts[i + 2] ?? s.length).replace(/^>(>*From )/gm, '$1')
    out.push(Buffer.from(body.slice(0, maxMessageBytes), 'latin1'))
  }
  return out
}

const isMbox = (head: Buffer): boolean => head.subarray(0, 5).toString('latin1') === 'From '

/// Every message under a path: an mbox file, a single message file, or a directory of either.
export function * messagesIn (path: string): Generator<Buffer> {
  const st = statSync(path)
  if (st.isDirectory()) {
    for (const name of readdirSync(path).sort()) {
      if (name.startsWith('.') || name === 'cmds' || name.endsWith('.index')) continue
      yield * messagesIn(join(path, name))
    }
    return
  }
  if (!st.isFile() || st.size === 0) return
  const bytes = readFileSync(path)
  // A file that starts with a "From " line is an mbox of one or more messages.
  if (isMbox(bytes)) yield * splitMbox(bytes)
  else yield bytes.length > maxMessageBytes ? bytes.subarray(0, maxMessageBytes) : bytes
}
