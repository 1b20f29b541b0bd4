/// `scanwall start [--config FILE]`: runs one node until SIGTERM/SIGINT, then drains and exits 0.
/// Bad configuration: one line naming the key on stderr, exit 78 (EX_CONFIG).
import { loadConfig } from '../../config/load.js'
import { startNode, type RunningNode } from '../node.js'
import { isScanwallError } from '../errors.js'
import { parseOptions } from './args.js'

export async function runStart (args: string[]): Promise<number> {
  const { values } = parseOptions(args, { config: { type: 'string', short: 'c' } })
  let config
  try {
    config = loadConfig({ file: values.config })
  } catch (err) {
    if (isScanwallError(err) && err.code === 'CONFIG_INVALID') {
      process.stderr.write(`scanwall: ${err.message}\n`)
      return 78
    }
    throw err
  }
  // Signal handlers go in before start-up: a SIGHUP or SIGTERM that arrives while the parts start
  // must not take the default action (terminate) or be lost.
  let node: RunningNode | undefined
  let stopRequested: NodeJS.Signals | undefined
  let stopped: (() => void) | undefined
  let reloadRequested = false
  // SIGHUP: reload signatures (compiled in the background; a failed load keeps the old DB). One that
  // arrives during start-up is done once the node is up: the DB may already be loaded by then.
  const onHangup = (): void => {
    if (node === undefined) reloadRequested = true
    else node.scan.reload().catch(() => {})
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
    node = await startNode(config)
  } catch (err) {
    detach()
    // Some configuration is only checked when the parts start (e.g. a trap target naming no user).
    if (isScanwallError(err) && err.code === 'CONFIG_INVALID') {
      process.stderr.write(`scanwall: ${err.message}\n`)
      return 78
    }
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
