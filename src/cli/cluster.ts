/// `scanwall node offline|online` and `scanwall cluster status`: talk to the running node over its
/// control socket (path and key from the same --config file the node was started with).
import { loadConfig } from '../../config/load.js'
import { control } from '../cluster/control.js'
import { readClusterKey } from '../cluster/key.js'
import type { NodeStatus } from '../cluster/agent.js'
import { parseOptions } from './args.js'

const options = {
  config: { type: 'string', short: 'c' },
  instance: { type: 'string', short: 'i' },
  json: { type: 'boolean' },
  'no-wait': { type: 'boolean' },
} as const

interface Target { readonly socket: string, readonly key: Buffer, readonly instance: string | undefined, readonly json: boolean, readonly wait: boolean }

/// Where to send the command and how to sign it: the socket and key of the same --config file the
/// node was started with (the key read and checked as the node does).
async function target (args: string[]): Promise<Target> {
  const { values } = parseOptions(args, options)
  const config = loadConfig({ file: values.config })
  return { socket: config.cluster.controlSocket, key: await readClusterKey(config.cluster), instance: values.instance, json: values.json === true, wait: values['no-wait'] !== true }
}

export async function runNode (args: string[]): Promise<number> {
  const [action, ...rest] = args
  if (action !== 'offline' && action !== 'online') {
    process.stderr.write('usage: scanwall node offline|online [--config FILE] [--instance NAME] [--no-wait]\n')
    return 2
  }
  const t = await target(rest)
  const result = action === 'offline' ? await control.offline(t.socket, t.key, t.instance, t.wait) : await control.online(t.socket, t.key, t.instance)
  process.stdout.write(`${JSON.stringify(result)}\n`)
  return 'drained' in result && !result.drained ? 1 : 0
}

function table (rows: readonly NodeStatus[]): string {
  const lines = rows.map(n => [
    `${n.self ? '*' : ' '}${n.id}`, n.state, String(n.weight), `${n.owned}/${n.mapped}`,
    `cpu ${(n.load.cpu * 100).toFixed(0)}% q ${(n.load.queue * 100).toFixed(0)}% busy ${(n.load.poolBusy * 100).toFixed(0)}%`,
    String(n.connections), n.self ? '-' : `${n.lastHeartbeatMs} ms`, n.healthy ? 'ok' : `failing: ${n.failing.join(',')}`,
  ].join('\t'))
  return ['node\tstate\tweight\tbuckets(owned/mapped)\tload\tconns\tlast heartbeat\thealth', ...lines].join('\n')
}

export async function runCluster (args: string[]): Promise<number> {
  const [action, ...rest] = args
  if (action !== 'status') {
    process.stderr.write('usage: scanwall cluster status [--config FILE] [--instance NAME] [--json]\n')
    return 2
  }
  const t = await target(rest)
  const result = await control.status(t.socket, t.key, t.instance)
  if (t.json) {
    process.stdout.write(`${JSON.stringify(result)}\n`)
    return 0
  }
  for (const [name, inst] of Object.entries(result)) {
    process.stdout.write(`cluster ${name} (map ${inst.mapVersion.toString(16)})\n${table(inst.nodes)}\n`)
  }
  return 0
}
