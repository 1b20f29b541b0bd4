/// `scanwall start [--config FILE]`: runs one node until SIGTERM/SIGINT, then drains and exits 0.
/// Bad configuration (at load or when a part starts): main.ts prints one line naming the key and
/// exits 78 (EX_CONFIG).
import { loadConfig, type ConfigTree } from '../../config/load.js'
import { startNode, type RunningNode } from '../node.js'
import { withOptions, type CommandSpec } from './args.js'
import { errorMessage } from '../errors.js'
import type { ReloadResult } from '../cluster/control-reply.js'

const spec = {
  name: 'start',
  about: 'Run one node (ICAP on 127.0.0.1:1344 by default) until SIGTERM or SIGINT; SIGHUP reloads the signatures and the policy (profiles and lists from the --config file).',
  options: {
    config: { type: 'string', short: 'c', value: 'FILE', help: 'JSON configuration file (keys: config/schema.ts; SCANWALL_* environment variables override it)' },
  },
} satisfies CommandSpec

export async function runStart (args: string[]): Promise<number> {
  return await withOptions(spec, args, async ({ values }) => await run(loadConfig({ file: values.config }), values.config))
}

/// SIGHUP's policy half: the --config file read again and its policy applied, or refused with the
/// reason (one log line) while the old policy keeps serving.
export function reloadPolicyFrom (node: RunningNode, file: string | undefined): ReloadResult {
  try {
    node.reloadPolicy(loadConfig({ file }))
    return { applied: true }
  } catch (err) {
    const reason = errorMessage(err)
    node.log.error({ err: reason, config: file }, 'policy reload refused; the old policy keeps serving')
    return { applied: false, reason }
  }
}

async function run (config: ConfigTree, file: string | undefined): Promise<number> {
  // Signal handlers go in before start-up: a SIGHUP or SIGTERM that arrives while the parts start
  // must not take the default action (terminate) or be lost.
  let node: RunningNode | undefined
  let stopRequested: NodeJS.Signals | undefined
  let stopped: (() => void) | undefined
  let reloadRequested = false
  // SIGHUP: reload signatures (compiled in the background; a failed load keeps the old DB) and the
  // policy. One that arrives during start-up is done once the node is up.
  const onHangup = (): void => {
    if (node === undefined) { reloadRequested = true; return }
    reloadPolicyFrom(node, file)
    node.scan.reload().catch(() => {})
  }
  const onSignal = (signal: NodeJS.Signals): void => {
    stopRequested ??= signal
    if (node !== undefined && stopped !== undefined) shutdown(node, signal, stopped)
  }
  const shutdown = (running: RunningNode, signal: NodeJS.Signals, done: () => void): void => {
    running.log.info({ signal }, 'signal received')
    detach()
    running.stop().then(done, (err: unknown) => { running.log.error({ err }, 'shutdown failed'); done() })
  }
  const detach = (): void => {
    process.off('SIGTERM', onSignal)
    process.off('SIGINT', onSignal)
    process.off('SIGHUP', onHangup)
  }
  process.on('SIGTERM', onSignal)
  process.on('SIGINT', onSignal)
  process.on('SIGHUP', onHangup)
  try {
    node = await startNode(config, undefined, {}, {
      requestStop: () => { onSignal('SIGTERM') },
      // `scanwall reload` (cluster control socket): the same as SIGHUP, with the policy's answer.
      reload: () => {
        if (node === undefined) return { applied: false, reason: 'the node is still starting' }
        node.scan.reload().catch(() => {})
        return reloadPolicyFrom(node, file)
      },
    })
  } catch (err) {
    // Some configuration is only checked when the parts start (e.g. a trap target naming no user):
    // that error reaches main.ts like a load error.
    detach()
    throw err
  }
  const running = node
  if (reloadRequested) onHangup()
  await new Promise<void>(resolve => {
    stopped = resolve
    if (stopRequested !== undefined) shutdown(running, stopRequested, resolve)
  })
  return 0
}
