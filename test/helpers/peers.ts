/// The peer harness (../shared/peers next to the repository): the deterministic generator of a
/// ClamAV-format DB and ClamAV itself. Missing peers fail loudly; tests never skip.
import { execFileSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

export const peersDir = fileURLToPath(new URL('../../../../shared/peers/', import.meta.url))

/// Generates the peer-scale DB (100k .hdb + 20k .ndb, seed 20240601 unless told) into dir.
export function generateDb (dir: string, options: { hdb?: number, ndb?: number, seed?: number } = {}): void {
  const script = `${peersDir}gen-db.py`
  if (!existsSync(script)) throw new Error(`peer DB generator missing: ${script}`)
  execFileSync('python3', [script, dir, '--seed', String(options.seed ?? 20240601), '--hdb', String(options.hdb ?? 100_000), '--ndb', String(options.ndb ?? 20_000)], { stdio: 'pipe' })
}

export function requireProgram (name: string): void {
  try {
    execFileSync('sh', ['-c', `command -v ${name}`], { stdio: 'pipe' })
  } catch {
    throw new Error(`${name} is not installed: run test/setup-peers.sh`)
  }
}
