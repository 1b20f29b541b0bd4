/// The anchor kernel's cost alone, in thread CPU per MiB (not wall time: the machine is shared), with
/// the peer-scale DB (../shared/peers/gen-db.py): the kernel's scan of an 8 MiB buffer (hits counted,
/// not probed), a raw layer (`unknown`: kernel + probes + verification) and a text layer (raw +
/// normalised match), for random bytes and for text like make-corpus.py's, several reps each (median,
/// min..max), for the kernel's SIMD body and its scalar one. `node dist/bench/kernel-cpu.js [--reps N]
/// [--db DIR] [--js]` (--js: the JS reference loop as well).
import { execFile } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { randomBytes } from 'node:crypto'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { promisify } from 'node:util'
import { loadDb } from '../src/engine/signatures/cache.js'
import { Matcher } from '../src/engine/matcher/matcher.js'
import { median } from './cache-cost.js'

const run = promisify(execFile)
const genDb = fileURLToPath(new URL('../../../shared/peers/gen-db.py', import.meta.url))
const threadCpuNs = (): number => Number(readFileSync('/proc/thread-self/schedstat', 'latin1').split(' ')[0])

const WORDS = ('the of and to in is that for it as was with be by on not he this are or his from at which but have an ' +
  'they you were her she there been one all we their has would when if so no will can more who out up ' +
  'request response server proxy cache scan virus object header body length content error warning info ' +
  'debug user client session token connect timeout retry buffer stream chunk preview icap http').split(' ')

/// Lines of numbered words, as make-corpus.py's text files (seeded xorshift, not Python's generator).
export function textBytes (n: number, seed = 0x2545f491): Uint8Array {
  let s = seed
  const next = (k: number): number => { s ^= s << 13; s ^= s >>> 17; s ^= s << 5; return (s >>> 0) % k }
  const parts: string[] = []
  let size = 0
  while (size < n) {
    const words = Array.from({ length: 5 + next(14) }, () => WORDS[next(WORDS.length)]!)
    const line = `${String(next(1_000_000)).padStart(6, '0')} ${words.join(' ')}\n`
    parts.push(line)
    size += line.length
  }
  return new Uint8Array(Buffer.from(parts.join('')).subarray(0, n))
}

const MIB = 1 << 20

/// ms of thread CPU per MiB of `bytes` for `work`, per rep.
function cpuPerMib (bytes: number, reps: number, work: () => void): number[] {
  for (let w = 0; w < 3; w++) work() // warm-up: JIT (WebAssembly tiers up in the background), first touch of the kernel's memory
  const out: number[] = []
  for (let r = 0; r < reps; r++) {
    const t = threadCpuNs()
    work()
    out.push((threadCpuNs() - t) / 1e6 / (bytes / MIB))
  }
  return out
}

const show = (xs: number[]): string => `${median(xs).toFixed(2)} (${Math.min(...xs).toFixed(2)}..${Math.max(...xs).toFixed(2)})`

export async function runKernelCpu (options: { reps: number, db?: string | undefined, js: boolean }): Promise<string> {
  const root = mkdtempSync(join(tmpdir(), 'scanwall-kernel-cpu-'))
  try {
    const dbDir = options.db ?? join(root, 'db')
    if (options.db === undefined) await run('python3', [genDb, dbDir, '--seed', '20240601', '--hdb', '100000', '--ndb', '20000'])
    const { db } = await loadDb(dbDir, { lenient: false, cacheDir: join(root, 'cache') })
    const inputs: Array<[string, Uint8Array]> = [['random', new Uint8Array(randomBytes(8 * MIB))], ['text', textBytes(8 * MIB)]]
    const matchers: Array<[string, Matcher]> = [['simd', new Matcher(db, { kernelBody: 'simd' })], ['scalar', new Matcher(db, { kernelBody: 'scalar' })]]
    if (options.js) matchers.push(['js', new Matcher(db, { kernel: false })])
    const rows = ['| input | path | scan alone ms/MiB | Bloom hits per MiB | raw layer ms/MiB | text layer ms/MiB |', '|---|---|--:|--:|--:|--:|']
    for (const [label, bytes] of inputs) {
      for (const [path, m] of matchers) {
        let hits = 0
        const kernel = m.kernel
        const alone = kernel === undefined ? [] : cpuPerMib(bytes.length, options.reps, () => { hits = 0; kernel.run(bytes, 0, bytes.length - 4, () => { hits++ }) })
        const raw = cpuPerMib(bytes.length, options.reps, () => { m.matchAll(bytes, 'unknown') })
        const text = cpuPerMib(bytes.length, options.reps, () => { m.matchAll(bytes, 'text') })
        rows.push(`| ${label} | ${path} | ${alone.length > 0 ? show(alone) : '-'} | ${alone.length > 0 ? (hits / (bytes.length / MIB)).toFixed(0) : '-'} | ${show(raw)} | ${show(text)} |`)
      }
    }
    return rows.join('\n')
  } finally {
    rmSync(root, { recursive: true, force: true })
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const args = process.argv.slice(2)
  const value = (flag: string): string | undefined => { const i = args.indexOf(flag); return i >= 0 ? args[i + 1] : undefined }
  console.log(await runKernelCpu({ reps: Number(value('--reps') ?? 7), db: value('--db'), js: args.includes('--js') }))
}
