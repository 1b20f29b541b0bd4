/// Renders a benchmark run as markdown tables (peer, Scanwall, ratio per cell; memory; targets) and
/// writes them into BENCHMARKS.md between fixed markers, so the prose around the tables stays hand-written.
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import type { CellResult } from './bench-icap.js'

export interface Cell {
  readonly size: string
  readonly concurrency: number
  readonly seconds: number
  readonly peer: CellResult
  readonly scanwall: CellResult
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
const ratio = (ours: number, theirs: number): string => theirs > 0 ? `${(ours / theirs).toFixed(2)}×` : '–'
const statuses = (r: CellResult): string => Object.entries(r.statuses).map(([k, v]) => `${k}:${v}`).join(' ')
const errs = (r: CellResult): string => r.errors === 0 ? '0' : `**${r.errors}**`

export function renderMarkdown (run: BenchRun): string {
  const lines: string[] = []
  lines.push(`Run ${run.startedAt} → ${run.finishedAt}, command \`${run.command}\`.`, '')
  lines.push('| key | value |', '|---|---|')
  for (const [k, v] of Object.entries(run.machine)) lines.push(`| ${k} | ${v.replace(/\|/g, '\\|')} |`)
  lines.push('')
  lines.push('### RESPMOD matrix (bench-icap, Preview 1024, Allow: 204, unique bodies)', '')
  lines.push('| body | conc | s | c-icap req/s | c-icap MB/s | c-icap p50 / p99 ms | Scanwall req/s | Scanwall MB/s | Scanwall p50 / p99 ms | **ratio** (req/s = MB/s) | errors c-icap / Scanwall | ICAP statuses c-icap / Scanwall |')
  lines.push('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|')
  for (const c of run.cells) {
    lines.push(`| ${c.size} | ${c.concurrency} | ${c.seconds} | ${fixed(c.peer.rps)} | ${fixed(c.peer.MBps, 2)} | ${fixed(c.peer.p50)} / ${fixed(c.peer.p99)} | ` +
      `${fixed(c.scanwall.rps)} | ${fixed(c.scanwall.MBps, 2)} | ${fixed(c.scanwall.p50)} / ${fixed(c.scanwall.p99)} | ` +
      `**${ratio(c.scanwall.rps, c.peer.rps)}** | ${errs(c.peer)} / ${errs(c.scanwall)} | ${statuses(c.peer)} / ${statuses(c.scanwall)} |`)
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
      const r = c.peer.rps > 0 ? c.scanwall.rps / c.peer.rps : 0
      return `c=${c.concurrency}: ${r.toFixed(2)}× ${r >= 3 && c.scanwall.errors === 0 ? 'met' : 'NOT met'}`
    })
    lines.push(`- ${what}: ${parts.join('; ')}`)
  }
  target('4k', '≥ 3× the peer\'s req/s at 4 KiB')
  target('1m', '≥ 3× the peer\'s MB/s at 1 MiB')
  return lines.join('\n')
}

/// Replaces the generated section of BENCHMARKS.md (or appends one).
export function writeIntoBenchmarks (file: string, markdown: string): void {
  const section = `${BEGIN}\n${markdown}\n${END}`
  const text = existsSync(file) ? readFileSync(file, 'utf8') : '# Benchmarks\n'
  const begin = text.indexOf(BEGIN)
  const end = text.indexOf(END)
  const next = begin >= 0 && end > begin
    ? text.slice(0, begin) + section + text.slice(end + END.length)
    : `${text.trimEnd()}\n\n${section}\n`
  writeFileSync(file, next)
}
