/// The content filter on the ICAP REQMOD path: an upload (an HTTP request body) the virus scan
/// allowed is read by the content filter; a rule whose action is block, quarantine or delete turns
/// the decision into a block named `Content.<rule>` (an upload cannot be "delivered later": all
/// three refuse it; quarantine also keeps it when the quarantine is on). Archive and log allow it.
/// The ICAP handler makes one call here (`uploadDecision`).
import { sourceBytes, type BodySource } from '../scan/body.js'
import type { ScanContext } from '../scan/input.js'
import type { Decision } from '../policy/decide.js'
import type { ContentFilter, ContentResult } from './filter.js'

/// Largest upload the content filter reads into memory; larger ones pass to the virus scan's verdict alone.
const maxUploadBytes = 64 * 1024 * 1024

export interface UploadCheck {
  readonly filter: ContentFilter
  /// Called with every result that hit (for the log and the decision database).
  readonly onHit?: (result: ContentResult, context: ScanContext) => void
}

/// The decision after the content filter: `decision` unchanged unless an allowed REQMOD body hits a
/// refusing rule.
export async function uploadDecision (check: UploadCheck | undefined, body: BodySource | undefined, context: ScanContext, decision: Decision, signal: AbortSignal): Promise<Decision> {
  if (check === undefined || body === undefined || decision.action !== 'allow' || context.method !== 'REQMOD' || body.size > maxUploadBytes) return decision
  const bytes = await sourceBytes(body)
  const result = await check.filter.check(bytes, { kind: 'upload', ...(context.url === undefined ? {} : { url: context.url }) }, signal)
  if (result.action === 'pass') return decision
  check.onHit?.(result, context)
  if (result.action === 'archive' || result.action === 'log') return decision
  const rule = result.hits.find(h => h.action === result.action)?.rule ?? 'rule'
  return { action: 'block', reason: `content rule ${rule}`, threat: `Content.${rule}` }
}
