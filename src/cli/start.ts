/// `scanwall start [--config FILE]`: runs one node until SIGTERM/SIGINT, then drains and exits 0.
/// Bad configuration: one line naming the key on stderr, exit 78 (EX_CONFIG).
import { loadConfig } from '../../config/load.js'
import { startNode } from '../node.js'
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
  let node
  try {
    node = await startNode(config)
  } catch (err) {
    // Some configuration is only checked when the parts start (e.g. a trap target naming no user).
    if (isScanwallError(err) && err.code === 'CONFIG_INVALID') {
      process.stderr.write(`scanwall: ${err.message}\n`)
      return 78
    }
    throw err
  }
  await new Promise<void>(resolve => {
    const onSignal = (signal: NodeJS.Signals): void => {
      node.log.info({ signal }, 'signal received')
      process.off('SIGTERM', onSignal)
      process.off('SIGINT', onSignal)
      process.off('SIGHUP', onHangup)
      node.stop().then(resolve, (err: unknown) => { node.log.error({ err }, 'shutdown failed'); resolve() })
    }
    process.on('SIGTERM', onSignal)
    process.on('SIGINT', onSignal)
    // SIGHUP: reload signatures (compiled in the background; a failed load keeps the old DB).
    const onHangup = (): void => { node.scan.reload().catch(() => {}) }
    process.on('SIGHUP', onHangup)
  })
  return 0
}
