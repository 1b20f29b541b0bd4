/// Runs the spam or content filter step on a message the virus scan let go on: its bytes read back
/// from the body the scan handed back (memory, or the spool file), the step's outcome, and the
/// message kept in our quarantine when the outcome asks (an archive copy released at once). A step
/// that throws (it should not: the filters degrade on bad mail, DNS or database trouble) is
/// reported as a failure, which the handler answers with the mail profile's `error` action.
import type { MessageSummary, MilterEnvelope } from '../../protocols/milter/index.js'
import { sourceBytes, type BodySource } from '../scan/body.js'
import type { ScanContext } from '../scan/input.js'
import type { Verdict } from '../engine/verdict.js'
import type { QuarantineRef } from '../records/recorder.js'
import type { Quarantine } from '../quarantine/keeper.js'
import { errorMessage } from '../errors.js'
import type { FilterOutcome, FilterStep } from './filter-step.js'

export type FilterRun =
  | { readonly ok: true, readonly outcome: FilterOutcome, readonly kept: QuarantineRef | undefined }
  | { readonly ok: false, readonly message: string }

export async function runFilter (step: FilterStep, body: BodySource, envelope: MilterEnvelope, message: MessageSummary, signal: AbortSignal,
  keeper: { readonly quarantine: Quarantine | undefined, readonly verdict: Verdict, readonly context: ScanContext }): Promise<FilterRun> {
  let outcome: FilterOutcome
  try {
    outcome = await step(await sourceBytes(body), envelope, message, signal)
  } catch (err) {
    return { ok: false, message: errorMessage(err) }
  }
  const keep = outcome.keep
  const quarantine = keeper.quarantine
  if (keep === undefined || quarantine === undefined) return { ok: true, outcome, kept: undefined }
  const decision = { action: 'block', reason: keep.reason, threat: keep.threat, quarantine: true } as const
  const kept = await quarantine.keep(body, keeper.verdict, decision, keeper.context)
  // An archive copy is kept for the record, not held: released, it stands as judged harmless.
  if (kept !== undefined && keep.release) await quarantine.store.release(kept.id).catch(() => {})
  return { ok: true, outcome, kept }
}
