/// The fuzz run as a Markdown table: one row per target, then the totals (BENCHMARKS.md takes it as is).
import type { FuzzReport } from './harness.js'

const mib = (kb: number): string => (kb / 1024).toFixed(0)

export function table (report: FuzzReport): string {
  const head = ['target', 'seeds', 'cases', 'crashes', 'hangs', 'over RSS', 'EICAR kept/checked', 'peak RSS MiB', 'seconds']
  const rows = report.rows.map(r => [r.target, r.seeds, r.cases, r.crashes, r.hangs, r.memory, `${r.kept}/${r.checked}`, mib(r.peakRssKb), (r.ms / 1000).toFixed(1)].map(String))
  const sum = (f: (r: FuzzReport['rows'][number]) => number): number => report.rows.reduce((a, r) => a + f(r), 0)
  rows.push(['total', sum(r => r.seeds), sum(r => r.cases), sum(r => r.crashes), sum(r => r.hangs), sum(r => r.memory), `${sum(r => r.kept)}/${sum(r => r.checked)}`, mib(Math.max(0, ...report.rows.map(r => r.peakRssKb))), (sum(r => r.ms) / 1000).toFixed(1)].map(String))
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map(r => r[i]?.length ?? 0)))
  const line = (cells: readonly string[]): string => `| ${cells.map((c, i) => i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0)).join(' | ')} |`
  return [line(head), `|${widths.map((w, i) => i === 0 ? `-${'-'.repeat(w)}-` : `-${'-'.repeat(w)}:`).join('|')}|`, ...rows.map(line)].join('\n')
}
