/// ClamAV's incremental updates (`<db>-<version>.cdiff`): `ClamAV-Diff:<version>:<script length>:`,
/// a gzip'd script of OPEN/ADD/DEL/XCHG/MOVE/CLOSE/UNLINK commands, then `:` and a digital signature
/// (PSS over the SHA-256 of everything before that colon, dsig.ts). verifyCdiff checks it as
/// libclamav does; applyCdiff runs the script on an unpacked copy held in memory (file name → lines),
/// with libclamav's rules: edits name a line number and the start of its text, and a mismatch
/// refuses the whole diff, so a diff for another base version never half-applies.
import { createHash } from 'node:crypto'
import { gunzipSync } from 'node:zlib'
import { firstKey, verifyPssSignature, type RsaPublicKey } from './dsig.js'

/// libclamav reads the signature from the last 350 bytes.
const maxSignatureLength = 350

export interface Cdiff { readonly version: number, readonly script: string[] }

/// Verifies the signature and unpacks the script; the reason when the file is refused.
/// `vouched`: a detached `.sign` signature over the whole file already verified; the embedded one
/// is then not required.
export function verifyCdiff (file: Uint8Array, keys: readonly RsaPublicKey[], vouched = false): { cdiff: Cdiff, key?: RsaPublicKey } | string {
  const buf = Buffer.from(file.buffer, file.byteOffset, file.length)
  if (buf.subarray(0, 12).toString('latin1') !== 'ClamAV-Diff:') return 'no ClamAV-Diff header'
  const colon = buf.lastIndexOf(0x3a)
  if (colon < 0 || buf.length - colon - 1 > maxSignatureLength) return 'no digital signature at the end'
  const dsig = buf.subarray(colon + 1).toString('latin1').trim()
  let key: RsaPublicKey | undefined
  if (!vouched) {
    if (dsig === '') return 'unsigned (empty digital signature)'
    const sha256 = createHash('sha256').update(buf.subarray(0, colon)).digest()
    key = firstKey(keys, k => verifyPssSignature(sha256, dsig, k))
    if (key === undefined) return `digital signature does not verify under any trusted key (${keys.map(k => k.name).join(', ')})`
  }
  const second = buf.indexOf(0x3a, 12)
  const third = second < 0 ? -1 : buf.indexOf(0x3a, second + 1)
  if (third < 0 || third >= colon) return 'malformed header'
  const version = Number(buf.subarray(12, second).toString('latin1'))
  if (!Number.isSafeInteger(version)) return 'bad version in header'
  let text: string
  try {
    text = gunzipSync(buf.subarray(third + 1, colon)).toString('latin1')
  } catch (err) {
    return `script does not inflate: ${err instanceof Error ? err.message : String(err)}`
  }
  const script = text.split('\n').map(l => l.replace(/\r$/, '')).filter(l => l !== '' && !l.startsWith('#'))
  return key === undefined ? { cdiff: { version, script } } : { cdiff: { version, script }, key }
}

/// An unpacked database: entry name → its lines (no trailing newline).
export type UnpackedDb = Map<string, string[]>

export function toLines (data: Uint8Array): string[] {
  const text = Buffer.from(data.buffer, data.byteOffset, data.length).toString('latin1')
  const lines = text.split('\n')
  if (lines[lines.length - 1] === '') lines.pop()
  return lines
}

export function fromLines (lines: readonly string[]): Uint8Array {
  return Buffer.from(lines.length === 0 ? '' : lines.join('\n') + '\n', 'latin1')
}

interface Edit { readonly line: number, readonly start: string, readonly replacement: string | undefined }

const words = (s: string, n: number): string[] => {
  const parts = s.trim().split(/\s+/)
  if (parts.length < n) throw new Error(`expected ${n} fields in '${s}'`)
  return parts
}

/// Runs the script on `db` (changed in place only when every command succeeded: work on a copy).
export function applyCdiff (db: UnpackedDb, cdiff: Cdiff): void {
  let open: string | undefined
  let edits: Edit[] = []
  let additions: string[] = []
  const need = (cmd: string): string => {
    if (open === undefined) throw new Error(`${cmd} without an open database`)
    return open
  }
  for (const [n, line] of cdiff.script.entries()) {
    const space = line.indexOf(' ')
    const cmd = space < 0 ? line : line.slice(0, space)
    const rest = space < 0 ? '' : line.slice(space + 1)
    const at = `cdiff ${cdiff.version} line ${n + 1}`
    try {
      switch (cmd) {
        case 'OPEN':
          if (open !== undefined) throw new Error(`${open} not closed before opening ${rest}`)
          if (!/^[A-Za-z0-9./\\]+$/.test(rest.trim()) || rest.includes('..')) throw new Error(`forbidden characters in database name '${rest}'`)
          open = rest.trim()
          break
        case 'ADD': need(cmd); additions.push(rest); break
        case 'DEL': {
          need(cmd)
          const [no, start] = words(rest, 2)
          edits.push({ line: Number(no), start: start ?? '', replacement: undefined })
          break
        }
        case 'XCHG': {
          need(cmd)
          const m = /^(\d+)\s(\S+)\s(.*)$/.exec(rest)
          if (m === null) throw new Error(`malformed XCHG '${rest}'`)
          edits.push({ line: Number(m[1]), start: m[2] ?? '', replacement: m[3] ?? '' })
          break
        }
        case 'CLOSE': {
          const name = need(cmd)
          // Nothing to write leaves the file as it is (absent after UNLINK), as libclamav does.
          if (edits.length > 0 || additions.length > 0) db.set(name, edited(db.get(name) ?? [], edits, name).concat(additions))
          open = undefined
          edits = []
          additions = []
          break
        }
        case 'UNLINK': db.delete(need(cmd)); break
        case 'MOVE': {
          if (open !== undefined) throw new Error(`${open} not closed before MOVE`)
          const [src = '', dst = '', startNo, startText = '', endNo, endText = ''] = words(rest, 6)
          moveLines(db, src, dst, Number(startNo), startText, Number(endNo), endText)
          break
        }
        default: throw new Error(`unknown command '${cmd}'`)
      }
    } catch (err) {
      throw new Error(`${at}: ${err instanceof Error ? err.message : String(err)}`)
    }
  }
  if (open !== undefined) throw new Error(`cdiff ${cdiff.version}: ${open} never closed`)
}

function edited (lines: readonly string[], edits: readonly Edit[], name: string): string[] {
  const byLine = new Map<number, Edit>()
  for (const e of edits) {
    if (byLine.has(e.line)) throw new Error(`conflicting edits of ${name} line ${e.line}`)
    byLine.set(e.line, e)
  }
  const out: string[] = []
  for (const [i, text] of lines.entries()) {
    const e = byLine.get(i + 1)
    if (e === undefined) { out.push(text); continue }
    if (!text.startsWith(e.start)) throw new Error(`${name} line ${i + 1} does not start with '${e.start}'`)
    byLine.delete(i + 1)
    if (e.replacement !== undefined) out.push(e.replacement)
  }
  if (byLine.size > 0) throw new Error(`${name} has no line ${[...byLine.keys()].join(', ')}`)
  return out
}

function moveLines (db: UnpackedDb, src: string, dst: string, start: number, startText: string, end: number, endText: string): void {
  const from = db.get(src)
  const to = db.get(dst)
  if (from === undefined || to === undefined) throw new Error(`MOVE between missing files ${src} → ${dst}`)
  if (!(start >= 1 && end >= start && end <= from.length)) throw new Error(`MOVE range ${start}-${end} outside ${src}`)
  if (!(from[start - 1] ?? '').startsWith(startText) || !(from[end - 1] ?? '').startsWith(endText)) throw new Error(`MOVE range of ${src} does not match`)
  db.set(dst, to.concat(from.slice(start - 1, end)))
  db.set(src, from.slice(0, start - 1).concat(from.slice(end)))
}
