/// The message shapes between the scan service and workers/scan.ts (structured-clone safe).
import type { BodySource } from './body.js'
import type { Verdict } from '../engine/verdict.js'
import type { ScanLimits } from '../engine/budget.js'
import type { ErrorCode } from '../errors.js'

export interface ScanTask {
  readonly source: BodySource
  readonly name: string
  readonly timeoutMs: number
  /// Return a memory body's ArrayBuffer with the result (moved back), for echoing it to the client.
  readonly returnBody: boolean
  /// Int32Array view target: set to 1 by the service to cancel cooperatively (client went away);
  /// the walk checks it between chunks, so the worker thread survives the cancellation.
  readonly cancelFlag: SharedArrayBuffer
  /// Unpacking limits from config (scan.limits); maxScanMs comes from timeoutMs.
  readonly limits?: Partial<ScanLimits>
}

export type ScanTaskResult =
  | { readonly ok: true, readonly verdict: Verdict, readonly body?: ArrayBuffer }
  | { readonly ok: false, readonly code: ErrorCode, readonly message: string, readonly body?: ArrayBuffer }
