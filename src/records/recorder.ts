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

/// What a mail filter did to a message the virus scan let go on (src/milter: the spam or content
/// filter's action), so the message's event says what happened to it rather than the virus
/// decision's allow. Only for an action that did something (not ham delivered, not a clean pass).
export interface FilterRecord {
  /// `<filter>:<action>`: spam:reject|quarantine|discard|tag, content:block|quarantine|delete|archive|log.
  readonly action: string
  /// 'Spam', or 'Content.<rule>'.
  readonly threat: string
  readonly reason: string
  /// The message did not reach its recipients (refused, held, dropped): an event of action
  /// block (or quarantine with a quarantine ref), counted as a block.
  readonly stopped: boolean
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
  /// Set when a mail filter acted on the message after the virus scan allowed it.
  readonly filter?: FilterRecord
}

export interface Recorder {
  record (input: RecordInput): void
}

/// stats.enabled false: the adapters call this one and nothing is kept.
export const noRecorder: Recorder = { record: () => {} }
