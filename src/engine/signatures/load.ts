/// Reads a signature database (a directory of any mix of ClamAV files, as freshclam writes it, or a
/// single file) and streams every signature into a SignatureSink. .ign2 files are applied first
/// wherever they are. A malformed line stops the load with `file:line: reason` (SIGDB_INVALID)
/// unless the load is lenient, which skips and counts it; valid lines using features this engine
/// does not implement are counted as unsupported.
import { open, readdir, readFile, stat } from 'node:fs/promises'
import { createHash } from 'node:crypto'
import { basename, extname, join } from 'node:path'
import { ScanwallError } from '../../errors.js'
import { parseHashLine, parseSectionHashLine } from './hdb.js'
import { parseBodyLine } from './ndb.js'
import { parseLogicalLine } from './ldb.js'
import { readCvd } from './cvd.js'
import { checkInfo, parseInfo } from './info.js'
import { unanchorable } from '../matcher/compile.js'
import type { LoadOptions, LoadStats, SignatureSink } from './types.js'

type Kind = 'hash' | 'section' | 'allow' | 'body' | 'logical' | 'ignore' | 'container' | 'info' | 'other'

const kinds = new Map<string, Kind>([
  ['.hdb', 'hash'], ['.hsb', 'hash'], ['.hdu', 'hash'], ['.hsu', 'hash'],
  ['.fp', 'allow'], ['.sfp', 'allow'],
  ['.ndb', 'body'], ['.ndu', 'body'],
  ['.ldb', 'logical'], ['.ldu', 'logical'],
  ['.ign2', 'ignore'],
  ['.cvd', 'container'], ['.cld', 'container'],
  ['.info', 'info'],
  ['.mdb', 'section'], ['.msb', 'section'], ['.mdu', 'section'], ['.msu', 'section'],
  ['.cdb', 'other'], ['.crb', 'other'], ['.idb', 'other'], ['.pdb', 'other'], ['.gdb', 'other'], ['.wdb', 'other'], ['.ftm', 'other'],
  ['.cbc', 'other'], ['.yar', 'other'], ['.yara', 'other'],
])

/// Why each line of a DB file kind this engine reads but does not apply is skipped (docs/engine.md).
const otherReasons = new Map<string, string>([
  ['.cdb', 'container metadata signature (.cdb)'],
  ['.crb', 'trusted/revoked certificate (.crb): Authenticode is not verified'],
  ['.idb', 'icon signature (.idb): PE icons are not extracted'],
  ['.pdb', 'phishing domain list (.pdb): no phishing URL check'],
  ['.gdb', 'phishing domain list (.gdb): no phishing URL check'],
  ['.wdb', 'phishing allow list (.wdb): no phishing URL check'],
  ['.ftm', 'file-type magic (.ftm): types come from the built-in table'],
  ['.cbc', 'bytecode signature (.cbc): no bytecode interpreter'],
  ['.yar', 'YARA rule file: no YARA engine'],
  ['.yara', 'YARA rule file: no YARA engine'],
])
/// Kinds whose signature is the whole file, not a line.
const wholeFile = new Set(['.cbc', '.yar', '.yara'])

export function isSignatureFile (name: string): boolean { return kinds.has(extname(name).toLowerCase()) }

interface DbFile { readonly name: string, readonly kind: Kind, readonly data: Uint8Array }

/// Checks every .info against the files beside it (same CVD, or the same directory).
function verifyInfo (all: readonly DbFile[]): void {
  const dirOf = (name: string): string => name.includes('/') ? name.slice(0, name.lastIndexOf('/') + 1) : ''
  for (const f of all.filter(x => x.kind === 'info')) {
    const entries = parseInfo(f.data)
    if (typeof entries === 'string') throw invalid(`${f.name}: ${entries}`)
    const dir = dirOf(f.name)
    const siblings = new Map(all.filter(x => dirOf(x.name) === dir).map(x => [x.name.slice(dir.length), x.data]))
    const why = checkInfo(entries, siblings)
    if (why !== undefined) throw invalid(`${f.name}: ${why}`)
  }
}

function invalid (where: string): ScanwallError { return new ScanwallError('SIGDB_INVALID', where) }

/// The DB's files (top level), sorted by name; a single file path is a DB of one file.
export async function listDbFiles (path: string): Promise<string[]> {
  let info
  try {
    info = await stat(path)
  } catch (err) {
    throw invalid(`${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`)
  }
  if (!info.isDirectory()) {
    if (!isSignatureFile(path)) throw invalid(`${path}: not a signature file`)
    return [path]
  }
  return (await readdir(path)).filter(isSignatureFile).sort().map(n => join(path, n))
}

/// A version string for a set of files: a hash over their names and contents.
export function versionOf (files: ReadonlyArray<{ name: string, data: Uint8Array }>): string {
  const digest = createHash('sha256')
  for (const f of files) digest.update(basename(f.name)).update('\0').update(f.data).update('\0')
  return digest.digest('hex').slice(0, 16)
}

/// The same version string, computed by streaming the files (nothing kept in memory): the key of
/// the compiled cache, checked before deciding whether the files need parsing at all.
export async function versionOfPath (path: string): Promise<string> {
  const digest = createHash('sha256')
  // One buffer for every read: a stream's fresh 1 MiB chunks were garbage the size of the DB files
  // (hundreds of MiB for a full ClamAV DB) left in the process at every start.
  const buf = new Uint8Array(1 << 20)
  for (const file of await listDbFiles(path)) {
    digest.update(basename(file)).update('\0')
    const handle = await open(file, 'r')
    try {
      for (let n = 0; (n = (await handle.read(buf, 0, buf.length, null)).bytesRead) > 0;) digest.update(buf.subarray(0, n))
    } finally {
      await handle.close()
    }
    digest.update('\0')
  }
  return digest.digest('hex').slice(0, 16)
}

export async function readDbFiles (path: string): Promise<Array<{ name: string, data: Uint8Array }>> {
  const out = []
  for (const file of await listDbFiles(path)) out.push({ name: file, data: await readFile(file) })
  return out
}

function expand (files: ReadonlyArray<{ name: string, data: Uint8Array }>): DbFile[] {
  const out: DbFile[] = []
  for (const f of files) {
    const kind = kinds.get(extname(f.name).toLowerCase())
    if (kind === undefined) continue
    if (kind !== 'container') { out.push({ name: basename(f.name), kind, data: f.data }); continue }
    const cvd = readCvd(f.data)
    if (typeof cvd === 'string') throw invalid(`${basename(f.name)}: ${cvd}`)
    for (const e of cvd.entries) {
      const k = kinds.get(extname(e.name).toLowerCase())
      // every member is kept for the .info check; unknown kinds are dropped after it
      out.push({ name: `${basename(f.name)}/${e.name}`, kind: k === undefined || k === 'container' ? 'other' : k, data: e.data })
    }
  }
  return out
}

/// Calls fn on every non-empty, non-comment line with its 1-based number.
function eachLine (data: Uint8Array, fn: (line: string, n: number) => void): void {
  const buf = Buffer.from(data.buffer, data.byteOffset, data.length)
  let n = 0
  for (let at = 0; at < buf.length;) {
    let nl = buf.indexOf(10, at)
    if (nl < 0) nl = buf.length
    n++
    let end = nl
    if (end > at && buf[end - 1] === 13) end--
    if (end > at && buf[at] !== 35) { // '#'
      const line = buf.toString('utf8', at, end).trim()
      if (line !== '') fn(line, n)
    }
    at = nl + 1
  }
}

/// Streams every signature of the files into the sink and returns what was loaded.
export function loadFiles (files: ReadonlyArray<{ name: string, data: Uint8Array }>, sink: SignatureSink, options: LoadOptions, stats: LoadStats): void {
  const all = expand(files)
  verifyInfo(all)
  const ordered = [...all.filter(f => f.kind === 'ignore'), ...all.filter(f => f.kind !== 'ignore')]
  for (const file of ordered) {
    if (file.kind === 'info' || (file.kind === 'other' && !otherReasons.has(extname(file.name).toLowerCase()))) continue
    stats.files.push(file.name)
    const fail = (n: number, reason: string): void => {
      if (reason.startsWith('unsupported:')) {
        stats.unsupported++
        const why = reason.slice('unsupported:'.length).replace(/ ?'[^']*'| — .*$/g, '')
        stats.unsupportedReasons[why] = (stats.unsupportedReasons[why] ?? 0) + 1
        return
      }
      if (!options.lenient) throw invalid(`${file.name}:${n}: ${reason}`)
      stats.skipped++
      stats.firstSkipReason ??= `${file.name}:${n}: ${reason}`
    }
    let counted = false
    eachLine(file.data, (line, n) => {
      switch (file.kind) {
        case 'ignore': sink.ignore(line.split(':')[0] ?? line); stats.ignored++; break
        case 'hash':
        case 'allow': {
          const s = parseHashLine(line, file.kind === 'allow')
          if (typeof s === 'string') { fail(n, s); break }
          sink.hash(s)
          if (s.allow) stats.allows++
          else stats.hashes++
          break
        }
        case 'section': {
          const s = parseSectionHashLine(line)
          if (typeof s === 'string') { fail(n, s); break }
          sink.sectionHash(s)
          stats.hashes++
          break
        }
        case 'body': {
          const s = parseBodyLine(line)
          if (typeof s === 'string') { fail(n, s); break }
          const why = unanchorable(s.pattern)
          if (why !== undefined) { fail(n, why); break }
          sink.body(s)
          stats.bodies++
          break
        }
        case 'logical': {
          const s = parseLogicalLine(line)
          if (typeof s === 'string') { fail(n, s); break }
          const why = s.subs.flatMap(sub => sub.k === 'hex' ? sub.patterns : []).map(unanchorable).find(w => w !== undefined)
          if (why !== undefined) { fail(n, why); break }
          sink.logical(s)
          stats.logicals++
          break
        }
        case 'other': {
          const ext = extname(file.name).toLowerCase()
          const reason = otherReasons.get(ext)
          if (reason !== undefined && !(wholeFile.has(ext) && counted)) fail(n, `unsupported:${reason}`)
          counted = true
          break
        }
        case 'container': case 'info': break
      }
    })
  }
  if (stats.hashes + stats.allows + stats.bodies + stats.logicals === 0) throw invalid(`${files.map(f => basename(f.name)).join(', ') || 'DB'}: no signatures found`)
}
