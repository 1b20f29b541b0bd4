/// `scanwall witness --listen HOST:PORT --key-file FILE [--lease-ms N] [--max-skew-ms N]`: the
/// tie-breaker of issue #17 for two-node clusters and even splits, run on a third host. It keeps no
/// state on disk and needs no root: after a restart it grants nothing for one lease (witness-ledger.ts).
/// Bad options: one line naming the option on stderr, exit 78 (EX_CONFIG), as `scanwall start`.
/// Runs until SIGTERM/SIGINT. Parses with node:util directly (no shared CLI helper) so the file
/// merges unchanged onto either version of src/cli/args.ts.
import { readFile } from 'node:fs/promises'
import { isIPv4 } from 'node:net'
import { WitnessServer } from '../../protocols/cluster/witness-server.js'
import { createLogger } from '../log.js'
import { parseArgs } from 'node:util'

const options = {
  listen: { type: 'string' },
  'key-file': { type: 'string' },
  'lease-ms': { type: 'string' },
  'max-skew-ms': { type: 'string' },
} as const

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
  const text = (await readFile(file, 'utf8').catch((err: unknown) => { throw new OptionError(`--key-file: ${err instanceof Error ? err.message : String(err)}`) })).trim()
  if (text.length < 16) throw new OptionError('--key-file: a shared key of at least 16 characters is required')
  return Buffer.from(text, 'utf8')
}

export async function runWitness (args: string[]): Promise<number> {
  let server: WitnessServer
  let leaseMs: number
  try {
    const { values } = parseArgs({ args, options, strict: true, allowPositionals: false })
    leaseMs = positive('lease-ms', values['lease-ms'], 1000)
    server = new WitnessServer({ listen: endpoint(values.listen), key: await key(values['key-file']), leaseMs, maxSkewMs: positive('max-skew-ms', values['max-skew-ms'], 10_000) })
  } catch (err) {
    if (!(err instanceof OptionError) && !(err instanceof TypeError)) throw err
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
