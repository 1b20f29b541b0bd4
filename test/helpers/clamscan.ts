/// Debian's clamscan over a directory, as the comparison tests run it: the names (last path part) of
/// the files it reported FOUND. Exit 1 means "found something", not a failure.
import { execFileSync } from 'node:child_process'

export function clamscanFound (dir: string, db: string): Set<string> {
  let out: string
  try {
    out = execFileSync('clamscan', ['--no-summary', '--stdout', '-d', db, dir], { encoding: 'utf8' })
  } catch (err) {
    const e = err as { status?: number, stdout?: string }
    if (e.status !== 1 || e.stdout === undefined) throw err
    out = e.stdout
  }
  return new Set([...out.matchAll(/^.*\/([^/:]+): .* FOUND$/gm)].map(m => m[1] ?? ''))
}
