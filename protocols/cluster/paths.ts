/// Redundant heartbeat paths (issue #17 item 3): one heartbeat transport per configured path (the
/// service network, a dedicated link, …), each with its own bind address, peers and multicast group.
/// Every heartbeat goes out on every path; each heartbeat is delivered once (the first copy to
/// arrive, deduplicated by sender, boot and seq), and every copy is reported as an arrival on its
/// path, so membership.ts can say a peer is dead only when it is silent on all paths, and status can
/// say which path is down. Replay checks stay per path in each transport.
import { EventEmitter } from 'node:events'
import type { HeartbeatTransport, Endpoint } from './transport.js'
import type { ClusterMessage } from './messages.js'
import { ReplayWindow } from './replay.js'

export interface HeartbeatPath {
  readonly name: string
  readonly transport: HeartbeatTransport
}

export interface MultiPathEvents {
  /// The first copy of a heartbeat, on whichever path it came.
  message: [ClusterMessage, string, Endpoint]
  /// Every copy (first or duplicate), for per-path liveness.
  arrival: [string, string, Endpoint]
}

export class MultiPathChannel extends EventEmitter<MultiPathEvents> {
  readonly #paths: readonly HeartbeatPath[]
  readonly #delivered = new ReplayWindow()
  readonly #sendErrors = new Map<string, number>()
  #duplicates = 0

  constructor (paths: readonly HeartbeatPath[]) {
    super()
    if (paths.length === 0) throw new Error('a heartbeat channel needs at least one path')
    if (new Set(paths.map(p => p.name)).size !== paths.length) throw new Error('heartbeat path names must be unique')
    this.#paths = paths
    for (const p of paths) p.transport.on('message', (m, from) => this.#receive(m, p.name, from))
  }

  get paths (): readonly string[] { return this.#paths.map(p => p.name) }

  send (beat: ClusterMessage): void {
    for (const p of this.#paths) {
      // A path whose socket failed must not stop the beat from leaving on the others.
      try {
        p.transport.send(beat)
      } catch {
        this.#sendErrors.set(p.name, (this.#sendErrors.get(p.name) ?? 0) + 1)
      }
    }
  }

  #receive (m: ClusterMessage, path: string, from: Endpoint): void {
    this.emit('arrival', m.node, path, from)
    if (!this.#delivered.accept(m.node, m)) {
      this.#duplicates++
      return
    }
    this.emit('message', m, path, from)
  }

  /// Rejects of every path as `path:reason`, failed sends as `path:send`, plus the copies dropped as
  /// already delivered.
  rejects (): Record<string, number> {
    const out: Record<string, number> = { duplicate: this.#duplicates }
    for (const p of this.#paths) for (const [reason, n] of p.transport.rejects) out[`${p.name}:${reason}`] = n
    for (const [path, n] of this.#sendErrors) out[`${path}:send`] = n
    return out
  }

  async close (): Promise<void> {
    await Promise.all(this.#paths.map(async p => { await p.transport.close() }))
  }
}
