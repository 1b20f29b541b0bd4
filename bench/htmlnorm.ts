/// Micro-bench of the HTML normaliser (matcher/htmlnorm.ts) and of the whole HTML layer, in process
/// CPU ms per MiB (CPU time, not wall time: the machine is shared), per generated page kind
/// (test/helpers/html-pages.ts). Not part of `npm run bench`; run by hand while working on the normaliser:
///   node dist/bench/htmlnorm.js [--sizes 1,8] [--reps 5] [--chunk 1048576] [--db DBDIR] [--reference]
/// --reference also times the reference normaliser (test/helpers/htmlnorm-reference.ts, the per-byte
/// state machine the fast one must equal); --db also times Engine.scan of each page with that
/// signature DB (e.g. ../shared/peers/gen-db.py's peer-scale DB). Prints a markdown table.
import { HtmlNormaliser } from '../src/engine/matcher/htmlnorm.js'
import { ReferenceHtmlNormaliser } from '../test/helpers/htmlnorm-reference.js'
import { loadDb } from '../src/engine/signatures/cache.js'
import { Engine } from '../src/engine/engine.js'
import { Matcher } from '../src/engine/matcher/matcher.js'
import { MemorySource } from '../src/engine/source.js'
import { defaultLimits } from '../src/engine/budget.js'
import { makePage, pageKinds } from '../test/helpers/html-pages.js'

interface Normaliser { push: (chunk: Uint8Array) => unknown, end: () => unknown }

const args = process.argv.slice(2)
const option = (name: string, fallback: string): string => { const at = args.indexOf(name); return at >= 0 ? args[at + 1] ?? fallback : fallback }
const sizes = option('--sizes', '1,8').split(',').map(Number)
const reps = Number(option('--reps', '5'))
const chunk = Number(option('--chunk', String(1 << 20)))
const dbDir = option('--db', '')
const withReference = args.includes('--reference')

const cpuMs = (): number => { const u = process.cpuUsage(); return (u.user + u.system) / 1000 }

/// The lowest CPU time of `reps` runs (the least disturbed by the other processes on the machine).
async function best (run: () => unknown): Promise<number> {
  await run() // warm-up: JIT and buffers
  let min = Infinity
  for (let r = 0; r < reps; r++) {
    const t = cpuMs()
    await run()
    min = Math.min(min, cpuMs() - t)
  }
  return min
}

function normalise (make: () => Normaliser, page: Uint8Array): void {
  const n = make()
  for (let at = 0; at < page.length; at += chunk) n.push(page.subarray(at, at + chunk))
  n.end()
}

async function main (): Promise<void> {
  const db = dbDir === '' ? undefined : (await loadDb(dbDir, { lenient: false })).db
  const engine = db === undefined ? undefined : new Engine(db)
  const matcher = db === undefined ? undefined : new Matcher(db)
  const rows = ['| page | MiB | normaliser ms/MiB | MB/s |' + (withReference ? ' reference ms/MiB | speed-up |' : '') + (engine === undefined ? '' : ' Engine.scan ms/MiB | raw match ms/MiB |'),
    '|---|---:|---:|---:|' + (withReference ? '---:|---:|' : '') + (engine === undefined ? '' : '---:|---:|')]
  for (const size of sizes) {
    for (const kind of pageKinds) {
      const page = new Uint8Array(makePage(kind, size << 20))
      const fast = await best(() => { normalise(() => new HtmlNormaliser(), page) }) / size
      let row = `| ${kind} | ${size} | ${fast.toFixed(2)} | ${(1.048576 / fast * 1000).toFixed(0)} |`
      if (withReference) {
        const ref = await best(() => { normalise(() => new ReferenceHtmlNormaliser(), page) }) / size
        row += ` ${ref.toFixed(2)} | ${(ref / fast).toFixed(1)}x |`
      }
      if (engine !== undefined) {
        const scan = await best(async () => {
          const v = await engine.scan(new MemorySource(page), `${kind}.html`, defaultLimits, new AbortController().signal)
          if (v.status !== 'clean') throw new Error(`${kind}: ${v.status} ${JSON.stringify(v.findings)}`)
        }) / size
        // The page's raw bytes matched as an untyped layer: what an HTML layer cost before the
        // normalised forms (hashes and one anchor scan), the yardstick of the target.
        const raw = await best(() => {
          const s = matcher!.begin('unknown', page.length)
          for (let at = 0; at < page.length; at += chunk) s.push(page.subarray(at, at + chunk))
          if (s.end().length !== 0) throw new Error(`${kind}: the raw page matched`)
        }) / size
        row += ` ${scan.toFixed(2)} | ${raw.toFixed(2)} |`
      }
      rows.push(row)
      process.stdout.write(`${row}\n`)
    }
  }
  process.stdout.write(`\n${rows.join('\n')}\n`)
}

main().catch((err: unknown) => { process.stderr.write(`${err instanceof Error ? err.stack ?? err.message : String(err)}\n`); process.exitCode = 1 })
