/// Shapes shared by the cluster agent, its netfilter sink, health checks and the control socket.
/// Kept apart from protocols/cluster so src/cluster never imports a protocol (the composition root
/// hands the transport in through the HeartbeatChannel seam).
export const nodeStates = ['joining', 'online', 'draining', 'offline', 'failed'] as const
export type NodeState = typeof nodeStates[number]

export interface LoadSample {
  readonly cpu: number
  readonly memory: number
  readonly queue: number
  readonly poolBusy: number
}

/// One heartbeat as the agent sees it (the wire schema in protocols/cluster/messages.ts matches it).
export interface PeerBeat {
  readonly v: 1
  readonly type: 'heartbeat'
  readonly cluster: string
  readonly node: string
  readonly boot: string
  readonly bootTs: number
  readonly seq: number
  readonly ts: number
  readonly state: NodeState
  readonly capacity: number
  readonly weight: number
  readonly load: LoadSample
  readonly mapVersion: number
  readonly owned: Uint8Array
  readonly signatureVersion: string
  readonly configVersion: string
  readonly healthy: boolean
  readonly failing: readonly string[]
  readonly connections: number
}

/// Where the agent's bucket ownership goes: the kernel filter (netfilter.ts), or nothing (standalone).
export interface OwnershipSink {
  apply (owned: readonly number[]): Promise<void>
}

/// What the node reports about itself on every heartbeat.
export interface LocalFacts {
  load (): LoadSample
  connections (): number
  signatureVersion (): string
}
