/// Combines health test results with the operator's logical expression (all / any / not).
/// A test with no result yet counts as passing, so a node is not taken out while it starts.
import type { HealthExpr } from '../config.js'

export function evaluate (expr: HealthExpr, results: ReadonlyMap<string, boolean>): boolean {
  if (typeof expr === 'string') return results.get(expr) ?? true
  if ('all' in expr) return expr.all.every(e => evaluate(e, results))
  if ('any' in expr) return expr.any.some(e => evaluate(e, results))
  return !evaluate(expr.not, results)
}
