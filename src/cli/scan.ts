/// `scanwall scan PATH... [--db DIR] [--lenient] [--no-summary]`: scans files and directories
/// (recursively) in this process, in the spirit of clamscan: `path: Name FOUND` / `path: OK`, a
/// summary, exit 0 when clean, 1 when something was found, 2 when an error occurred and nothing was.
import { readdir, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { bundledSignaturesDir, signaturesCacheDir } from '../../config/schema.js'
import { Engine } from '../engine/engine.js'
import { FileSource } from '../engine/source.js'
import { defaultLimits } from '../engine/budget.js'
import { loadDb } from '../engine/signatures/cache.js'
import { signatureCount } from '../engine/matcher/build.js'
import { errorMessage } from '../errors.js'
import { withOptions, type CommandSpec, type Parsed } from './args.js'

interface Tally { dirs: number, files: number, infected: number, errors: number, bytesRead: number, bytesScanned: number }

const mb = (n: number): string => (n / (1024 * 1024)).toFixed(2)

async function scanPath (engine: Engine, path: string, tally: Tally, out: (s: string) => void): Promise<void> {
  let info
  try {
    info = await stat(path)
  } catch (err) {
    tally.errors++
    out(`${path}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'No such file or directory' : errorMessage(err)} ERROR`)
    return
  }
  if (info.isDirectory()) {
    tally.dirs++
    let names: string[]
    try {
      names = (await readdir(path)).sort()
    } catch (err) {
      tally.errors++
      out(`${path}: ${errorMessage(err)} ERROR`)
      return
    }
    for (const name of names) await scanPath(engine, join(path, name), tally, out)
    return
  }
  if (!info.isFile()) return
  const verdict = await engine.scan(new FileSource(path, info.size), path, defaultLimits, new AbortController().signal)
  tally.files++
  tally.bytesRead += info.size
  tally.bytesScanned += verdict.stats.bytes
  if (verdict.status === 'infected') {
    tally.infected++
    out(`${path}: ${verdict.findings[0]?.name ?? 'unknown'} FOUND`)
  } else if (verdict.status === 'error') {
    tally.errors++
    out(`${path}: ${verdict.error?.message ?? 'scan failed'} ERROR`)
  } else {
    out(`${path}: OK`)
  }
}

const spec = {
  name: 'scan',
  about: 'Scan files and directories (recursively) like clamscan: exit 0 clean, 1 something found, 2 error.',
  positionals: '[PATH...]',
  options: {
    db: { type: 'string', short: 'd', value: 'DIR', help: 'signature directory (default: the bundled signatures)' },
    lenient: { type: 'boolean', help: 'skip malformed signature lines instead of refusing the database' },
    'no-summary': { type: 'boolean', help: 'omit the SCAN SUMMARY block' },
  },
} satisfies CommandSpec

export async function runScan (args: string[]): Promise<number> {
  return await withOptions(spec, args, scanCommand)
}

async function scanCommand ({ values, positionals }: Parsed<typeof spec.options>): Promise<number> {
  const out = (s: string): void => { process.stdout.write(`${s}\n`) }
  const started = performance.now()
  let engine: Engine
  let known: number
  let unsupported: Record<string, number> = {}
  try {
    const { db } = await loadDb(values.db ?? bundledSignaturesDir, { lenient: values.lenient === true, cacheDir: signaturesCacheDir })
    engine = new Engine(db)
    known = signatureCount(db)
    unsupported = db.stats.unsupportedReasons
  } catch (err) {
    process.stderr.write(`scanwall scan: ${errorMessage(err)}\n`)
    return 2
  }
  const tally: Tally = { dirs: 0, files: 0, infected: 0, errors: 0, bytesRead: 0, bytesScanned: 0 }
  for (const path of positionals.length > 0 ? positionals : ['.']) await scanPath(engine, path, tally, out)
  if (values['no-summary'] !== true) {
    const secs = (performance.now() - started) / 1000
    const ratio = tally.bytesRead > 0 ? (tally.bytesScanned / tally.bytesRead).toFixed(2) : '0.00'
    out('\n----------- SCAN SUMMARY -----------')
    out(`Known viruses: ${known}`)
    // One line per reason a valid signature was not loaded (clamscan has no such lines).
    for (const [why, n] of Object.entries(unsupported)) out(`Unsupported signatures: ${n} (${why})`)
    out(`Signature DB version: ${engine.version}`)
    out(`Scanned directories: ${tally.dirs}`)
    out(`Scanned files: ${tally.files}`)
    out(`Infected files: ${tally.infected}`)
    if (tally.errors > 0) out(`Total errors: ${tally.errors}`)
    out(`Data scanned: ${mb(tally.bytesScanned)} MB`)
    out(`Data read: ${mb(tally.bytesRead)} MB (ratio ${ratio}:1)`)
    out(`Time: ${secs.toFixed(3)} sec (${Math.floor(secs / 60)} m ${Math.floor(secs % 60)} s)`)
  }
  return tally.infected > 0 ? 1 : tally.errors > 0 ? 2 : 0
}
