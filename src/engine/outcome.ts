/// The verdict of one walk: the status rule written in src/engine/verdict.ts applied to what the walk
/// found (signatures) and what the budget recorded (limits, heuristics, encryption, broken containers).
import type { ScanBudget } from './budget.js'
import type { Finding, ScanStats, Verdict } from './verdict.js'

export function verdictOf (signatures: readonly Finding[], budget: ScanBudget, name: string, stats: ScanStats): Verdict {
  const exceeded = budget.exceeded
  const limit: Finding[] = exceeded === undefined ? [] : [{ name: `Heuristics.Limits.Exceeded.${exceeded}`, kind: 'limit', path: budget.exceededAt.length > 0 ? budget.exceededAt : [name] }]
  const heuristics = budget.reports.filter(r => r.kind === 'heuristic')
  const encrypted = budget.reports.filter(r => r.kind === 'encrypted')
  // Carried under every status: what could not be read is worth a log line even when something was found.
  const broken: Finding[] = budget.reports.filter(r => r.kind === 'broken')
  if (signatures.length > 0) return { status: 'infected', findings: [...signatures, ...broken], stats }
  // Heuristic findings (zip overlap bombs) block like signatures; then time, limits, encryption.
  if (heuristics.length > 0) return { status: 'infected', findings: [...heuristics, ...limit, ...broken], stats }
  if (exceeded === 'MaxScanTime') return { status: 'timeout', findings: [...limit, ...broken], stats }
  if (exceeded !== undefined) return { status: 'limit', findings: [...limit, ...encrypted, ...broken], stats }
  if (encrypted.length > 0) return { status: 'encrypted', findings: [...encrypted, ...broken], stats }
  if (broken.length > 0) return { status: 'broken', findings: broken, stats }
  return { status: 'clean', findings: [], stats }
}
