/// ICAP/1.0 server (RFC 3507). SKELETON: the contract node.ts relies on; the protocol is being
/// written behind it (parser.ts, connection.ts, respond.ts …).
import { createServer, type Server, type AddressInfo } from 'node:net'
import type { ScanService } from '../../src/scan/service.js'
import type { Profile } from '../../src/policy/decide.js'
import type { Metrics } from '../../src/metrics.js'
import type { Logger } from '../../src/log.js'

export interface IcapServerOptions {
  readonly host: string
  readonly port: number
  readonly nodeId: string
  readonly services: readonly string[]
  readonly maxConnections: number
  readonly previewBytes: number
  readonly transferPreview: string
  readonly transferIgnore: string
  readonly transferComplete: string
  readonly optionsTtlSeconds: number
  readonly allow206: boolean
  readonly idleTimeoutMs: number
  readonly headerTimeoutMs: number
  readonly bodyStallWarnMs: number
  readonly maxHeaderBytes: number
  readonly maxHeaderCount: number
  readonly maxObjectBytes: number
  readonly oversize: 'block' | 'allow'
  readonly blockTemplate: string
}

export interface IcapDeps {
  readonly scan: ScanService
  readonly profile: Profile
  readonly metrics: Metrics
  readonly log: Logger
}

export class IcapServer {
  readonly #options: IcapServerOptions
  readonly #server: Server
  constructor (options: IcapServerOptions, deps: IcapDeps) {
    this.#options = options
    void deps
    this.#server = createServer(socket => socket.end())
  }

  async listen (): Promise<AddressInfo> {
    await new Promise<void>((resolve, reject) => {
      this.#server.once('error', reject)
      this.#server.listen(this.#options.port, this.#options.host, () => { this.#server.off('error', reject); resolve() })
    })
    return this.#server.address() as AddressInfo
  }

  /// Drain: keep serving, but answer `Connection: close` after each current transaction.
  drain (): void {}

  async close (graceMs: number): Promise<void> {
    void graceMs
    await new Promise<void>(resolve => this.#server.close(() => resolve()))
  }
}
