/// The node's quarantine from config `quarantine`: the key read and checked, the directory made,
/// retention started. Undefined when quarantine.enabled is false.
import type { Logger } from '../log.js'
import { readQuarantineKey } from './key.js'
import { Quarantine } from './keeper.js'
import { QuarantineStore, type QuarantineLimits } from './store.js'

export interface QuarantineConfig extends QuarantineLimits {
  readonly enabled: boolean
  readonly services: readonly string[]
  readonly dir: string
  readonly key: string
  readonly keyFile: string
}

/// The store alone, for the CLI (same directory, same key as the node).
export async function openQuarantineStore (config: QuarantineConfig): Promise<QuarantineStore> {
  return await QuarantineStore.open(config.dir, readQuarantineKey(config), config)
}

export async function startQuarantine (config: QuarantineConfig, nodeId: string, log: Logger): Promise<{ quarantine: Quarantine, stop: () => void } | undefined> {
  if (!config.enabled) return undefined
  const quarantine = new Quarantine(await openQuarantineStore(config), { nodeId, services: config.services }, log)
  log.info({ dir: config.dir, maxBytes: config.maxBytes, retentionHours: config.retentionHours, services: config.services }, 'quarantine open')
  return { quarantine, stop: quarantine.startRetention() }
}
