/// `scanwall node offline|online` and `scanwall cluster status`: talk to the running node over its
/// control socket (path and key from the same --config file the node was started with).
import { readFileSync } from 'node:fs'
import { loadConfig } from '../../config/load.js'
import { controlCall, type ControlRequest } from '../cluster/control.js'
import type { NodeStatus } from '../cluster/agent.js'
import { parseOptions } from './args.js'

const options = {
  config: { type: 'string', short: 'c' },
  instance: { type: 'string', short: 'i' },
  json: { type: 'boolean' },
  'no-wait': { type: 'boolean' },
} as const

async function call (args: string[], request: (values: { instance?: string | undefined, 'no-wait'?: boolean | undefined }) => ControlRequest): Promise<{ result: unknown, json: boolean }> {
  const { values } = parseOptions(args, options)
  const config = loadConfig({ file: values.config })
  const key = config.cluster.keyFile !== '' ? readFileSync(config.cluster.keyFile, 'utf8').trim() : config.cluster.key
  const result = await controlCall(config.cluster.controlSocket, Buffer.from(key, 'utf8'), request(values))
  return { result, json: values.json === true }
}

export async function runNode (args: string[]): Promise<number> {
  const [action, ...rest] = args
  if (action !== 'offline' && action !== 'online') {
    process.stderr.write('usage: scanwall node offline|online [--config FILE] [--instance NAME] [--no-wait]\n')
    return 2
  }
  const { result } = await call(rest, v => ({ cmd: action, instance: v.instance, wait: v['no-wait'] !== true }))
  process.stdout.write(`${JSON.stringify(result)}\n`)
  const drained = typeof result === 'object' && result !== null && 'drained' in result ? result.drained : true
  return drained === false ? 1 : 0
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
  const { result, json } = await call(rest, v => ({ cmd: 'status', instance: v.instance }))
  if (json) {
    process.stdout.write(`${JSON.stringify(result)}\n`)
    return 0
  }
  for (const [name, inst] of Object.entries(result as Record<string, { nodes: NodeStatus[], mapVersion: number }>)) {
    process.stdout.write(`cluster ${name} (map ${inst.mapVersion.toString(16)})\n${table(inst.nodes)}\n`)
  }
  return 0
}
