/// The recorder seam: what every protocol adapter (ICAP today, clamd and milter next) hands over
/// once a scanned object has been decided. The adapter calls `record` on the I/O thread and goes on:
/// a recorder never blocks, never throws and never waits for a database (src/records/writer.ts
/// queues and writes in batches).
import type { Verdict } from '../engine/verdict.js'
import type { Decision } from '../policy/decide.js'
import type { ScanContext } from '../scan/input.js'

/// Where a quarantined object went (src/quarantine/store.ts).
export interface QuarantineRef {
  readonly id: string
  readonly sha256: string
}

export interface RecordInput {
  readonly verdict: Verdict
  readonly decision: Decision
  /// Service, method, client, user, URL as the protocol knows them.
  readonly context: ScanContext
  /// Body bytes received (the declared size for an object over the size limit).
  readonly bytes: number
  /// Set when the object was quarantined.
  readonly quarantine?: QuarantineRef
  /// Decided before any scan (an allow or deny list, a type the profile skips): `verdict` is a
  /// placeholder, and the event says 'unscanned' rather than the placeholder's 'clean'.
  readonly unscanned?: boolean
}

export interface Recorder {
  record (input: RecordInput): void
}

/// stats.enabled false: the adapters call this one and nothing is kept.
export const noRecorder: Recorder = { record: () => {} }
