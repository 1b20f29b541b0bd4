/// `scanwall node offline|online` and `scanwall cluster status`: talk to the running node over its
/// control socket (path and key from the same --config file the node was started with).
import { loadConfig } from '../../config/load.js'
import { control } from '../cluster/control.js'
import { readClusterKey } from '../cluster/key.js'
import type { NodeStatus } from '../cluster/agent-types.js'
import type { QuorumStatus } from '../cluster/quorum-gate.js'
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
  about: 'Every node of the cluster(s): state, weight, buckets, load, connections, last heartbeat, health, signature version; the quorum and each peer\'s heartbeat paths.',
  options: { config, instance, json: { type: 'boolean', help: 'print the status as one JSON line' } },
} satisfies CommandSpec

interface Target { readonly socket: string, readonly key: Buffer }

/// Where to send the command and how to sign it: the socket and key of the same --config file the
/// node was started with (the key read and checked as the node does).
async function target (configFile: string | undefined): Promise<Target> {
  const loaded = loadConfig({ file: configFile })
  return { socket: loaded.cluster.controlSocket, key: await readClusterKey(loaded.cluster) }
}

const nodeActions = {
  offline: {
    about: offlineSpec.about,
    run: async (args: string[]) => await withOptions(offlineSpec, args, async ({ values }) => {
      const t = await target(values.config)
      const result = await control.offline(t.socket, t.key, values.instance, values['no-wait'] !== true)
      process.stdout.write(`${JSON.stringify(result)}\n`)
      return 'drained' in result && !result.drained ? 1 : 0
    }),
  },
  online: {
    about: onlineSpec.about,
    run: async (args: string[]) => await withOptions(onlineSpec, args, async ({ values }) => {
      const t = await target(values.config)
      process.stdout.write(`${JSON.stringify(await control.online(t.socket, t.key, values.instance))}\n`)
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
    String(n.connections), n.self ? '-' : `${n.lastHeartbeatMs} ms`, n.healthy ? 'ok' : `failing: ${n.failing.join(',')}`, n.signatureVersion,
  ].join('\t'))
  return ['node\tstate\tweight\tbuckets(owned/mapped)\tload\tconns\tlast heartbeat\thealth\tsignatures', ...lines].join('\n')
}

/// Every voting peer's heartbeat paths: up or down, and when a heartbeat last arrived on each.
function pathTable (q: QuorumStatus): string {
  const rows = q.peers.flatMap(peer => peer.paths.map(p => `  ${peer.id}\t${p.path}\t${p.up ? 'up' : 'down'}\t${p.silentMs === undefined ? 'never' : `${p.silentMs} ms ago`}`))
  return rows.length === 0 ? '' : `heartbeat paths:\n  peer\tpath\tstate\tlast heard\n${rows.join('\n')}\n`
}

const clusterActions = {
  status: {
    about: statusSpec.about,
    run: async (args: string[]) => await withOptions(statusSpec, args, async ({ values }) => {
      const t = await target(values.config)
      const result = await control.status(t.socket, t.key, values.instance)
      if (values.json === true) {
        process.stdout.write(`${JSON.stringify(result)}\n`)
        return 0
      }
      for (const [name, inst] of Object.entries(result)) {
        process.stdout.write(`cluster ${name} (map ${inst.mapVersion.toString(16)})\n${table(inst.nodes)}\n`)
        // Why this node holds (or holds no) buckets, and which peer is not heard on which path.
        const q = inst.quorum
        if (q !== undefined) process.stdout.write(`quorum: ${q.state}, ${q.action}\n${q.lines.map(l => `  ${l}`).join('\n')}\n${pathTable(q)}`)
        const w = q?.witness
        if (w !== undefined) {
          const heard = w.lastAnswerMs === undefined ? 'never answered' : `last answer ${w.lastAnswerMs} ms ago`
          process.stdout.write(`  witness: ${w.granted ? 'votes for us' : `votes for {${w.holder.join(',')}}`}, ${heard} (${w.reason})\n`)
        }
      }
      return 0
    }),
  },
}

export async function runCluster (args: string[]): Promise<number> {
  return await runGroup('cluster', clusterActions, args)
}
