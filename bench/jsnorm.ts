/// Micro-bench of the JavaScript normaliser (matcher/jsnorm.ts over js-lexer.ts): script-heavy
/// generated pages (test/helpers/js-pages.ts: a minified library, packer output, obfuscated escaped
/// strings) through the HTML normaliser with and without the script sink, in process CPU ms (not
/// wall time: the machine is shared); the difference is the JavaScript normaliser's own cost, given
/// as MB/s of page. The SHA-256 of each page's `javascript` form is printed too, so that a change
/// meant to be a speed-up alone can be checked to write the same bytes. Not part of `npm run bench`:
///   node dist/bench/jsnorm.js [--size 4] [--reps 5] [--chunk 65536]
import { createHash } from 'node:crypto'
import { HtmlNormaliser } from '../src/engine/matcher/htmlnorm.js'
import { JsNormaliser } from '../src/engine/matcher/jsnorm.js'
import { scriptHeavyPage, scriptKinds } from '../test/helpers/js-pages.js'

const args = process.argv.slice(2)
const option = (name: string, fallback: string): string => { const at = args.indexOf(name); return at >= 0 ? args[at + 1] ?? fallback : fallback }
const size = Number(option('--size', '4'))
const reps = Number(option('--reps', '5'))
const chunk = Number(option('--chunk', '65536'))

const cpuMs = (): number => { const u = process.cpuUsage(); return (u.user + u.system) / 1000 }

/// The lowest CPU time of `reps` runs after a warm-up (the least disturbed by the rest of the machine).
function best (run: () => void): number {
  run()
  let min = Infinity
  for (let r = 0; r < reps; r++) {
    const t = cpuMs()
    run()
    min = Math.min(min, cpuMs() - t)
  }
  return min
}

/// The page through the HTML normaliser in `chunk`-sized pieces, the scripts to `js` if given;
/// returns the SHA-256 of what `js` wrote.
function normalise (page: Uint8Array, js: JsNormaliser | undefined): string {
  const hash = createHash('sha256')
  const n = new HtmlNormaliser(js)
  for (let at = 0; at < page.length; at += chunk) {
    n.push(page.subarray(at, at + chunk))
    if (js !== undefined) hash.update(js.take())
  }
  n.end()
  if (js !== undefined) hash.update(js.take())
  return hash.digest('hex')
}

const rows = ['| page | MiB | HTML alone ms | HTML + JS ms | JS ms/MiB | JS MB/s | javascript sha256 |', '|---|---:|---:|---:|---:|---:|---|']
for (const kind of scriptKinds) {
  const page = new Uint8Array(Buffer.from(scriptHeavyPage(kind, size << 20), 'latin1'))
  const mib = page.length / 1048576
  const html = best(() => { normalise(page, undefined) })
  const both = best(() => { normalise(page, new JsNormaliser()) })
  const jsMs = Math.max(both - html, 0.001)
  const row = `| ${kind} | ${mib.toFixed(2)} | ${html.toFixed(1)} | ${both.toFixed(1)} | ${(jsMs / mib).toFixed(1)} | ${(page.length / 1e6 / (jsMs / 1000)).toFixed(1)} | ${normalise(page, new JsNormaliser()).slice(0, 16)} |`
  rows.push(row)
  process.stdout.write(`${row}\n`)
}
process.stdout.write(`\n${rows.join('\n')}\n`)
