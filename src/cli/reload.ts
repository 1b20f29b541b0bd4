/// `scanwall reload [--config FILE] [--pid PID]`: checks the policy of the --config file the node runs
/// with (profiles, services, lists: a bad one is refused here with the reason, exit 78, and the node
/// never sees it), then asks the running node to apply it: through the authenticated control socket
/// of a clustered node (which answers whether it applied it), or by SIGHUP to --pid for a standalone
/// node (which has no control socket). The node checks the file again itself and keeps its old
/// policy if the file changed for the worse in between.
import { loadConfig } from '../../config/load.js'
import { control } from '../cluster/control.js'
import { readClusterKey } from '../cluster/key.js'
import { PolicySet } from '../policy/policy-set.js'
import { ScanwallError } from '../errors.js'
import { withOptions, type CommandSpec } from './args.js'

const spec = {
  name: 'reload',
  about: 'Check the policy in --config and make the running node apply it (and reload its signatures) without dropping a connection: over the cluster control socket, or by SIGHUP to --pid.',
  options: {
    config: { type: 'string', short: 'c', value: 'FILE', help: 'the configuration file the node was started with' },
    pid: { type: 'string', value: 'PID', help: 'a standalone node\'s process id (SIGHUP); a clustered node is asked over its control socket' },
  },
} satisfies CommandSpec

export async function runReload (args: string[]): Promise<number> {
  return await withOptions(spec, args, async ({ values }) => {
    const config = loadConfig({ file: values.config })
    PolicySet.build(config).close()
    if (values.pid !== undefined) {
      const pid = Number(values.pid)
      if (!Number.isInteger(pid) || pid <= 1) throw new ScanwallError('CONFIG_INVALID', `--pid ${values.pid} is not a process id`)
      process.kill(pid, 'SIGHUP')
      process.stdout.write(`policy checked; SIGHUP sent to ${pid}\n`)
      return 0
    }
    if (!config.cluster.enabled) throw new ScanwallError('CONFIG_INVALID', 'a standalone node has no control socket: give its process id with --pid (or send it SIGHUP)')
    const result = await control.reload(config.cluster.controlSocket, await readClusterKey(config.cluster))
    process.stdout.write(result.applied ? 'policy applied\n' : `policy refused: ${result.reason ?? 'unknown reason'}\n`)
    return result.applied ? 0 : 1
  })
}
