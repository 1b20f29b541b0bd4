/// Scanwall's clamd handler: what the clamd protocol server asks of the application, answered with
/// the scan service and the policy, as the ICAP handler does. An INSTREAM goes into a scan-service
/// sink (memory, spooled past scan.memoryLimitBytes); a local file is scanned where it lies (never
/// released: it is not ours). The policy profile of the clamd listener decides: block → FOUND with
/// the threat, allow → OK, no decision → ERROR with the reason.
import { stat } from 'node:fs/promises'
import type { ClamdHandler, ClamdRequestInfo, ScanReply, StatsSnapshot, StreamBody } from '../../protocols/clamd/index.js'
import { releaseSource } from '../scan/body.js'
import { cappedSink } from '../scan/capped-sink.js'
import type { ScanService } from '../scan/service.js'
import type { ScanBody, ScanContext } from '../scan/input.js'
import type { Verdict } from '../engine/verdict.js'
import { decide, policyContext, type Decision } from '../policy/decide.js'
import type { PolicyHolder } from '../policy/policy-set.js'
import { noRecorder, type Recorder } from '../records/recorder.js'
import { errorMessage } from '../errors.js'

export interface ClamdHandlerDeps {
  readonly scan: ScanService
  /// The policy in force: the clamd listener uses its clamd.profile (read per command, replaced on reload).
  readonly policy: PolicyHolder
  /// scan.maxObjectBytes: larger objects are not scanned (a `limit` verdict the policy decides).
  readonly maxObjectBytes: number
  /// The engine part of the VERSION line (`Scanwall-<package version>`).
  readonly engine: string
  readonly reload: () => void
  readonly shutdown: () => void
  /// The decision database (src/records), the same one ICAP writes to; absent: stats off.
  readonly recorder?: Recorder
}

/// clamd prints the DB date as ctime(3) does, without the newline: `Wed Dec  2 22:55:14 2026`.
export function ctimeUtc (ms: number): string {
  const d = new Date(ms)
  const days = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat']
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec']
  const two = (n: number): string => String(n).padStart(2, '0')
  const time = `${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())}`
  return `${days[d.getUTCDay()] ?? ''} ${months[d.getUTCMonth()] ?? ''} ${String(d.getUTCDate()).padStart(2, ' ')} ${time} ${d.getUTCFullYear()}`
}

function context (info: ClamdRequestInfo): ScanContext {
  return { service: 'clamd', method: info.command, client: info.remote }
}

export class ScanwallClamdHandler implements ClamdHandler {
  readonly #deps: ClamdHandlerDeps

  constructor (deps: ClamdHandlerDeps) { this.#deps = deps }

  version (): string {
    const db = this.#deps.scan.signatures
    return `ClamAV ${this.#deps.engine}/${db.version}/${ctimeUtc(db.builtAt)}`
  }

  openStream (info: ClamdRequestInfo): StreamBody {
    // Past scan.maxObjectBytes the bytes are dropped: the object is judged by its size alone.
    const body = cappedSink(this.#deps.scan.openSink(), this.#deps.maxObjectBytes)
    return {
      write: bytes => body.write(bytes),
      scan: async signal => {
        if (body.over) return await this.#judge(body.oversize(), info, signal, false)
        let source
        try {
          source = await body.finish()
        } catch (err) {
          return { kind: 'error', message: errorMessage(err) }
        }
        try {
          return await this.#judge(source, info, signal, false)
        } finally {
          await releaseSource(source)
        }
      },
      discard: async () => { await body.discard() },
    }
  }

  async scanFile (path: string, info: ClamdRequestInfo, signal: AbortSignal, allMatch: boolean): Promise<ScanReply> {
    let size: number
    try {
      size = (await stat(path)).size
    } catch (err) {
      return { kind: 'error', message: `Can't open file or directory: ${errorMessage(err)}` }
    }
    const body: ScanBody = size > this.#deps.maxObjectBytes ? { kind: 'oversize', size, kept: undefined } : { kind: 'file', path, size }
    return await this.#judge(body, info, signal, allMatch)
  }

  async #judge (body: ScanBody, info: ClamdRequestInfo, signal: AbortSignal, allMatch: boolean): Promise<ScanReply> {
    const scanContext = context(info)
    const profile = this.#deps.policy.current.clamd
    const oversize = body.kind !== 'oversize' && body.size > profile.maxObjectBytes
    const input: ScanBody = oversize ? { kind: 'oversize', size: body.size, kept: undefined } : body
    const { verdict } = await this.#deps.scan.scan(input, scanContext, signal)
    const decision = decide(verdict, policyContext(scanContext), profile)
    ;(this.#deps.recorder ?? noRecorder).record({ verdict, decision, context: scanContext, bytes: body.size })
    return replyFor(verdict, decision, allMatch)
  }

  reload (): void { this.#deps.reload() }
  shutdown (): void { this.#deps.shutdown() }

  stats (): StatsSnapshot {
    const scan = this.#deps.scan
    const memory = process.memoryUsage()
    return { busy: scan.inFlight, workers: scan.poolSize, queued: scan.queueDepth, usedBytes: memory.heapUsed + memory.arrayBuffers, totalBytes: memory.rss }
  }
}

/// The policy's decision as a clamd result: FOUND with the threat (every finding's name for
/// ALLMATCHSCAN), OK, or ERROR with what kept the scan from deciding.
export function replyFor (verdict: Verdict, decision: Decision, allMatch: boolean): ScanReply {
  switch (decision.action) {
    case 'allow':
      return { kind: 'ok' }
    case 'block': {
      const names = allMatch && verdict.findings.length > 0 ? verdict.findings.map(f => f.name) : [decision.threat]
      return { kind: 'found', names }
    }
    case 'fail':
      return { kind: 'error', message: verdict.error?.message ?? decision.reason }
  }
}
