/// Debian's clamscan over a directory, as the comparison tests run it: the names (last path part) of
/// the files it reported FOUND. Exit 1 means "found something", not a failure.
import { execFileSync, spawnSync } from 'node:child_process'

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

/// Detections per file name from clamscan-style output (`path: Name FOUND`) of `cmd args` (clamscan or
/// `scanwall scan`); clamscan adds `.UNOFFICIAL` to names from DBs without a CVD header, which is
/// dropped for the comparison.
export function detections (cmd: string, args: string[]): Map<string, string> {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 1 << 24 })
  if (r.status !== 0 && r.status !== 1) throw new Error(`${cmd} exited ${String(r.status)}: ${r.stderr}`)
  const out = new Map<string, string>()
  for (const m of r.stdout.matchAll(/^.*\/([^/\n]+): (\S+?)(?:\.UNOFFICIAL)? FOUND$/gm)) out.set(m[1] ?? '', m[2] ?? '')
  return out
}
