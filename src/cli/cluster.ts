/// `scanwall node offline|online` and `scanwall cluster status`: talk to the running node over its
/// control socket (path and key from the same --config file the node was started with).
import { readFileSync } from 'node:fs'
import { loadConfig } from '../../config/load.js'
import { controlCall, type ControlRequest } from '../cluster/control.js'
import type { NodeStatus } from '../cluster/agent.js'
import { runGroup, withOptions, type CommandSpec, type OptionSpec } from './args.js'

const config = { type: 'string', short: 'c', value: 'FILE', help: 'the configuration file the node was started with (control socket path and key)' } satisfies OptionSpec
const instance = { type: 'string', short: 'i', value: 'NAME', help: 'only this cluster instance (default: all of them)' } satisfies OptionSpec

const offlineSpec = {
  name: 'node offline',
  about: 'Drain this node out of its cluster(s): it stops taking new connections and waits for current ones (exit 1 if they outlast drainTimeoutMs).',
  options: { config, instance, 'no-wait': { type: 'boolean', help: 'return once draining has begun instead of waiting until the connections are gone' } },
} satisfies CommandSpec

const onlineSpec = {
  name: 'node online',
  about: 'Bring this node back into its cluster(s).',
  options: { config, instance },
} satisfies CommandSpec

const statusSpec = {
  name: 'cluster status',
  about: 'Every node of the cluster(s): state, weight, buckets, load, connections, last heartbeat, health.',
  options: { config, instance, json: { type: 'boolean', help: 'print the status as one JSON line' } },
} satisfies CommandSpec

async function call (configFile: string | undefined, request: ControlRequest): Promise<unknown> {
  const loaded = loadConfig({ file: configFile })
  const key = loaded.cluster.keyFile !== '' ? readFileSync(loaded.cluster.keyFile, 'utf8').trim() : loaded.cluster.key
  return await controlCall(loaded.cluster.controlSocket, Buffer.from(key, 'utf8'), request)
}

const nodeActions = {
  offline: {
    about: offlineSpec.about,
    run: async (args: string[]) => await withOptions(offlineSpec, args, async ({ values }) => {
      const result = await call(values.config, { cmd: 'offline', instance: values.instance, wait: values['no-wait'] !== true })
      process.stdout.write(`${JSON.stringify(result)}\n`)
      const drained = typeof result === 'object' && result !== null && 'drained' in result ? result.drained : true
      return drained === false ? 1 : 0
    }),
  },
  online: {
    about: onlineSpec.about,
    run: async (args: string[]) => await withOptions(onlineSpec, args, async ({ values }) => {
      process.stdout.write(`${JSON.stringify(await call(values.config, { cmd: 'online', instance: values.instance }))}\n`)
      return 0
    }),
  },
}

export async function runNode (args: string[]): Promise<number> {
  return await runGroup('node', nodeActions, args)
}

function table (rows: readonly NodeStatus[]): string {
  const lines = rows.map(n => [
    `${n.self ? '*' : ' '}${n.id}`, n.state, String(n.weight), `${n.owned}/${n.mapped}`,
    `cpu ${(n.load.cpu * 100).toFixed(0)}% q ${(n.load.queue * 100).toFixed(0)}% busy ${(n.load.poolBusy * 100).toFixed(0)}%`,
    String(n.connections), n.self ? '-' : `${n.lastHeartbeatMs} ms`, n.healthy ? 'ok' : `failing: ${n.failing.join(',')}`,
  ].join('\t'))
  return ['node\tstate\tweight\tbuckets(owned/mapped)\tload\tconns\tlast heartbeat\thealth', ...lines].join('\n')
}

const clusterActions = {
  status: {
    about: statusSpec.about,
    run: async (args: string[]) => await withOptions(statusSpec, args, async ({ values }) => {
      const result = await call(values.config, { cmd: 'status', instance: values.instance })
      if (values.json === true) {
        process.stdout.write(`${JSON.stringify(result)}\n`)
        return 0
      }
      for (const [name, inst] of Object.entries(result as Record<string, { nodes: NodeStatus[], mapVersion: number }>)) {
        process.stdout.write(`cluster ${name} (map ${inst.mapVersion.toString(16)})\n${table(inst.nodes)}\n`)
      }
      return 0
    }),
  },
}

export async function runCluster (args: string[]): Promise<number> {
  return await runGroup('cluster', clusterActions, args)
}
