/// `scanwall witness --listen HOST:PORT --key-file FILE [--lease-ms N] [--max-skew-ms N]`: the
/// tie-breaker of issue #17 for two-node clusters and even splits, run on a third host. It keeps no
/// state on disk and needs no root: after a restart it grants nothing for one lease (witness-ledger.ts).
/// Bad option values: one line naming the option on stderr, exit 78 (EX_CONFIG), as `scanwall start`;
/// unknown options and --help go through the shared option table (args.ts). Runs until SIGTERM/SIGINT.
import { isIPv4 } from 'node:net'
import { WitnessServer } from '../../protocols/cluster/witness-server.js'
import { createLogger } from '../log.js'
import { withOptions, type CommandSpec, type Parsed } from './args.js'
import { readClusterKey } from '../cluster/key.js'

const spec = {
  name: 'witness',
  about: 'The tie-breaker vote for two-node clusters and even splits, run on a third host (docs/cluster-quorum.md).',
  options: {
    listen: { type: 'string', value: 'IP:PORT', help: 'UDP address the cluster nodes send their vote requests to' },
    'key-file': { type: 'string', value: 'FILE', help: 'the cluster key file (the same key as the nodes\' cluster.keyFile)' },
    'lease-ms': { type: 'string', value: 'N', help: 'how long a granted vote lasts without renewal (default 1000)' },
    'max-skew-ms': { type: 'string', value: 'N', help: 'largest clock difference accepted in a request\'s timestamp (default 10000)' },
  },
} satisfies CommandSpec

class OptionError extends Error {}

function endpoint (text: string | undefined): { host: string, port: number } {
  const m = /^(.+):(\d+)$/.exec(text ?? '')
  const port = Number(m?.[2])
  if (m === null || !isIPv4(m[1] ?? '') || port < 0 || port > 65535) throw new OptionError(`--listen: '${text ?? ''}' is not IPv4:port`)
  return { host: m[1] ?? '', port }
}

function positive (name: string, text: string | undefined, def: number): number {
  if (text === undefined) return def
  const n = Number(text)
  if (!Number.isInteger(n) || n < 1) throw new OptionError(`--${name}: '${text}' is not a positive integer`)
  return n
}

async function key (file: string | undefined): Promise<Buffer> {
  if (file === undefined) throw new OptionError('--key-file: the cluster key file is required')
  // The same reader and check as a node's cluster.keyFile, with the option's name in the message.
  return await readClusterKey({ key: '', keyFile: file }).catch((err: unknown) => {
    throw new OptionError(`--key-file: ${(err instanceof Error ? err.message : String(err)).replace(/^config: cluster\.keyFile: /, '')}`)
  })
}

export async function runWitness (args: string[]): Promise<number> {
  return await withOptions(spec, args, witness)
}

async function witness ({ values }: Parsed<typeof spec.options>): Promise<number> {
  let server: WitnessServer
  let leaseMs: number
  try {
    leaseMs = positive('lease-ms', values['lease-ms'], 1000)
    server = new WitnessServer({ listen: endpoint(values.listen), key: await key(values['key-file']), leaseMs, maxSkewMs: positive('max-skew-ms', values['max-skew-ms'], 10_000) })
  } catch (err) {
    if (!(err instanceof OptionError)) throw err
    process.stderr.write(`scanwall witness: ${err.message}\n`)
    return 78
  }
  const log = createLogger(process.env['LOG_LEVEL'] ?? 'info', 'witness')
  // A grant that changes hands is what an operator needs to see; renewals (10 per second) are not.
  const last = new Map<string, string>()
  server.on('answer', (ask, answer, from) => {
    const holder = answer.holder.join(',')
    if (last.get(ask.cluster) === holder) return
    last.set(ask.cluster, holder)
    log.warn({ cluster: ask.cluster, asker: ask.node, from: `${from.host}:${from.port}`, partition: ask.partition, holder: answer.holder, reason: answer.reason }, 'witness vote holder changed')
  })
  let rejected = 0
  server.on('rejected', (reason, from, detail) => {
    if (rejected++ < 20) log.warn({ reason, from: `${from.host}:${from.port}`, detail }, 'witness request rejected')
  })
  const address = await server.start()
  log.info({ listen: `${address.host}:${address.port}`, leaseMs }, 'witness listening')
  process.stdout.write(`witness listening on ${address.host}:${address.port}\n`)
  await new Promise<void>(resolve => {
    const stop = (): void => { process.off('SIGTERM', stop); process.off('SIGINT', stop); resolve() }
    process.on('SIGTERM', stop)
    process.on('SIGINT', stop)
  })
  await server.close()
  log.info('witness stopped')
  return 0
}
