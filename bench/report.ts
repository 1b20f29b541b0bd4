/// Renders a benchmark run as markdown tables (peer, Scanwall, ratio per cell; memory; targets) and
/// writes them into BENCHMARKS.md between fixed markers, so the prose around the tables stays hand-written.
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import type { CellResult } from './bench-icap.js'

export interface Cell {
  readonly size: string
  readonly concurrency: number
  readonly seconds: number
  /// One result per repetition, in run order; the pair at index i ran back to back.
  readonly peerRuns: readonly CellResult[]
  readonly scanwallRuns: readonly CellResult[]
}

/// The repetition with the median req/s (the lower middle for an even count).
export function median (runs: readonly CellResult[]): CellResult {
  const sorted = [...runs].sort((a, b) => a.rps - b.rps)
  const pick = sorted[Math.floor((sorted.length - 1) / 2)]
  if (pick === undefined) throw new Error('no runs')
  return pick
}

const sumErrors = (runs: readonly CellResult[]): CellResult => {
  const statuses: Record<string, number> = {}
  for (const r of runs) for (const [k, v] of Object.entries(r.statuses)) statuses[k] = (statuses[k] ?? 0) + v
  return { ...median(runs), errors: runs.reduce((n, r) => n + r.errors, 0), statuses }
}

/// Median of the per-repetition ratios (each from a back-to-back pair) and their spread.
export function ratios (cell: Cell): { median: number, min: number, max: number } {
  const list = cell.scanwallRuns.map((ours, i) => {
    const theirs = cell.peerRuns[i]?.rps ?? 0
    return theirs > 0 ? ours.rps / theirs : 0
  }).sort((a, b) => a - b)
  return { median: list[Math.floor((list.length - 1) / 2)] ?? 0, min: list[0] ?? 0, max: list[list.length - 1] ?? 0 }
}

export interface MemoryRun {
  readonly size: string
  readonly concurrency: number
  readonly result: CellResult
  readonly scanwallHwm: number
  readonly scanwallSampled: number
}

export interface BenchRun {
  readonly command: string
  readonly startedAt: string
  readonly finishedAt: string
  readonly machine: Readonly<Record<string, string>>
  readonly cells: readonly Cell[]
  readonly scanwallHwm: number
  readonly scanwallSampled: number
  readonly peerSampled: number
  readonly memory: MemoryRun | undefined
}

const BEGIN = '<!-- bench:results:begin (written by `npm run bench`; do not edit by hand) -->'
const END = '<!-- bench:results:end -->'

const mib = (bytes: number): string => `${(bytes / 1048576).toFixed(0)} MiB`
const fixed = (n: number | null, digits = 1): string => n === null ? '–' : n >= 100 ? n.toFixed(0) : n.toFixed(digits)
const statuses = (r: CellResult): string => Object.entries(r.statuses).map(([k, v]) => `${k}:${v}`).join(' ')
const errs = (r: CellResult): string => r.errors === 0 ? '0' : `**${r.errors}**`

export function renderMarkdown (run: BenchRun): string {
  const lines: string[] = []
  lines.push(`Run ${run.startedAt} → ${run.finishedAt}, command \`${run.command}\`.`, '')
  lines.push('| key | value |', '|---|---|')
  for (const [k, v] of Object.entries(run.machine)) lines.push(`| ${k} | ${v.replace(/\|/g, '\\|')} |`)
  lines.push('')
  lines.push('### RESPMOD matrix (bench-icap, Preview 1024, Allow: 204, unique bodies)', '')
  lines.push('Per side and cell: the repetition with the median req/s (its MB/s, p50, p99). Ratio: the median of the per-repetition ratios ' +
    '(Scanwall req/s ÷ c-icap req/s of the back-to-back pair; bodies are equal, so the MB/s ratio is the same), then min..max over the repetitions. ' +
    'Errors and ICAP statuses are summed over the repetitions.', '')
  lines.push('| body | conc | reps × s | c-icap req/s | c-icap MB/s | c-icap p50 / p99 ms | Scanwall req/s | Scanwall MB/s | Scanwall p50 / p99 ms | **ratio** | ratio min..max | errors c-icap / Scanwall | ICAP statuses c-icap / Scanwall |')
  lines.push('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|')
  for (const c of run.cells) {
    const peer = sumErrors(c.peerRuns)
    const ours = sumErrors(c.scanwallRuns)
    const r = ratios(c)
    lines.push(`| ${c.size} | ${c.concurrency} | ${c.peerRuns.length} × ${c.seconds} | ${fixed(peer.rps)} | ${fixed(peer.MBps, 2)} | ${fixed(peer.p50)} / ${fixed(peer.p99)} | ` +
      `${fixed(ours.rps)} | ${fixed(ours.MBps, 2)} | ${fixed(ours.p50)} / ${fixed(ours.p99)} | ` +
      `**${r.median.toFixed(2)}×** | ${r.min.toFixed(2)}..${r.max.toFixed(2)} | ${errs(peer)} / ${errs(ours)} | ${statuses(peer)} / ${statuses(ours)} |`)
  }
  lines.push('')
  lines.push('### Memory', '')
  lines.push(`- Scanwall during the matrix: peak RSS **${mib(run.scanwallHwm)}** (kernel VmHWM of the node process; polled VmRSS max ${mib(run.scanwallSampled)}).`)
  lines.push(`- c-icap + clamd during the matrix: polled peak of summed VmRSS over clamd and every c-icap process ${mib(run.peerSampled)} (for scale only; 200 ms polling misses short peaks).`)
  if (run.memory !== undefined) {
    const m = run.memory
    const ok = m.result.errors === 0 && m.result.requests === m.concurrency
    lines.push(`- Memory target run: ${m.concurrency} concurrent RESPMODs of ${m.size} each (one wave, bench-icap \`--same-body\`), ` +
      `${m.result.requests} answered (${statuses(m.result)}), ${m.result.errors} errors, wall ${m.result.elapsedS.toFixed(1)} s, p99 ${fixed(m.result.p99, 0)} ms: ` +
      `Scanwall peak RSS **${mib(m.scanwallHwm)}** (VmHWM reset before the run; polled max ${mib(m.scanwallSampled)}). ` +
      `Target < 512 MiB: **${m.scanwallHwm < 512 * 1048576 && ok ? 'met' : 'NOT met'}**${ok ? '' : ' (not every request completed)'}.`)
  }
  lines.push('')
  lines.push('### Targets (issue #2)', '')
  const target = (size: string, what: string): void => {
    const cells = run.cells.filter(c => c.size === size)
    if (cells.length === 0) return
    const parts = cells.map(c => {
      const r = ratios(c)
      const clean = c.scanwallRuns.every(run => run.errors === 0)
      return `c=${c.concurrency}: ${r.median.toFixed(2)}× (${r.min.toFixed(2)}..${r.max.toFixed(2)}) ${r.median >= 3 && clean ? 'met' : 'NOT met'}`
    })
    lines.push(`- ${what}: ${parts.join('; ')}`)
  }
  target('4k', '≥ 3× the peer\'s req/s at 4 KiB')
  target('1m', '≥ 3× the peer\'s MB/s at 1 MiB')
  return lines.join('\n')
}

/// Replaces the generated section of BENCHMARKS.md (or appends one).
/// Replaces (or appends) the section of BENCHMARKS.md between one pair of markers: `results` (the
/// ICAP matrix), `engine`, `formats`. Hand-written text outside the markers is kept.
export function writeIntoBenchmarks (file: string, markdown: string, name = 'results'): void {
  const begin = name === 'results' ? BEGIN : `<!-- bench:${name}:begin (written by \`npm run bench\`; do not edit by hand) -->`
  const end = name === 'results' ? END : `<!-- bench:${name}:end -->`
  const section = `${begin}\n${markdown}\n${end}`
  const text = existsSync(file) ? readFileSync(file, 'utf8') : '# Benchmarks\n'
  const at = text.indexOf(begin)
  const until = text.indexOf(end)
  const next = at >= 0 && until > at
    ? text.slice(0, at) + section + text.slice(until + end.length)
    : `${text.trimEnd()}\n\n${section}\n`
  writeFileSync(file, next)
}
