/// `scanwall stats --by service|client|user|threat --since 24h` and `scanwall events --since 1h`:
/// read the decision database of the same --config file the node runs with (stats.url or
/// stats.path), read-only, with no running node needed.
import { loadConfig } from '../../config/load.js'
import { openStore } from '../records/open.js'
import type { RecordStore } from '../records/store.js'
import { dimensions, type Dimension } from '../records/hourly.js'
import { openSpamStore } from '../spam/store/open.js'
import { UsageError, usage, withOptions, type CommandSpec, type OptionSpec } from './args.js'

/// Totals over filtered mail (src/spam: the spam and content filters' results). `sender` alone is the
/// hourly aggregate of the milter's usage per envelope sender (issue #13); the spam filter's
/// results per sender are `spam-sender`.
const mailDimensions = ['rule', 'spam-sender'] as const

const config = { type: 'string', short: 'c', value: 'FILE', help: 'the configuration file the node runs with (stats.url or stats.path)' } satisfies OptionSpec
const json = { type: 'boolean', help: 'print one JSON object per line' } satisfies OptionSpec
const limit = { type: 'string', value: 'N', help: 'at most N rows (default 1000)' } satisfies OptionSpec

const statsSpec = {
  name: 'stats',
  about: 'Totals from the hourly aggregates: objects, bytes, infections and blocks per service, client, user, threat, or mail sender or recipient.',
  options: {
    by: { type: 'string', value: 'WHAT', help: `group by ${[...dimensions, ...mailDimensions].join('|')} (default service; rule and sender: filtered mail)` },
    since: { type: 'string', value: 'AGE', help: 'from this long ago: 30m, 24h, 7d (default 24h; whole hours are counted)' },
    config,
    json,
    limit,
  },
} satisfies CommandSpec

const eventsSpec = {
  name: 'events',
  about: 'Detections, blocks and quarantines, oldest first.',
  options: {
    since: { type: 'string', value: 'AGE', help: 'from this long ago: 30m, 1h, 7d (default 1h)' },
    config,
    json,
    limit,
  },
} satisfies CommandSpec

const units: Readonly<Record<string, number>> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }

/// '24h' → milliseconds.
export function parseAge (spec: CommandSpec, text: string): number {
  const m = /^(\d+)([smhd])$/.exec(text)
  if (m === null) throw new UsageError(spec.name, `--since: '${text}' is not an age such as 30m, 24h or 7d`, usage(spec))
  return Number(m[1]) * (units[m[2] ?? 's'] ?? 1000)
}

function parseLimit (spec: CommandSpec, text: string | undefined): number {
  if (text === undefined) return 1000
  if (!/^[1-9]\d*$/.test(text)) throw new UsageError(spec.name, `--limit: '${text}' is not a positive whole number`, usage(spec))
  return Number(text)
}

async function withStore<T> (configFile: string | undefined, body: (store: RecordStore) => Promise<T>): Promise<T> {
  const store = await openStore(loadConfig({ file: configFile }).stats, { readonly: true })
  try {
    return await body(store)
  } finally {
    await store.close()
  }
}

export async function runStats (args: string[]): Promise<number> {
  return await withOptions(statsSpec, args, async ({ values }) => {
    const by = values.by ?? 'service'
    if (by === 'rule' || by === 'spam-sender') return await mailStats(by === 'rule' ? 'rule' : 'sender', values)
    if (!(dimensions as readonly string[]).includes(by)) throw new UsageError(statsSpec.name, `--by: must be one of ${[...dimensions, ...mailDimensions].join(', ')}`, usage(statsSpec))
    const since = Math.floor((Date.now() - parseAge(statsSpec, values.since ?? '24h')) / 3_600_000) * 3600
    const rows = await withStore(values.config, async s => await s.totals(by as Dimension, since, parseLimit(statsSpec, values.limit)))
    if (values.json === true) for (const r of rows) process.stdout.write(`${JSON.stringify({ [by]: r.key, objects: r.objects, bytes: r.bytes, infections: r.infections, blocks: r.blocks })}\n`)
    else process.stdout.write([`${by}\tobjects\tbytes\tinfections\tblocks`, ...rows.map(r => [r.key, r.objects, r.bytes, r.infections, r.blocks].join('\t'))].join('\n') + '\n')
    return 0
  })
}

export async function runEvents (args: string[]): Promise<number> {
  return await withOptions(eventsSpec, args, async ({ values }) => {
    const since = Date.now() - parseAge(eventsSpec, values.since ?? '1h')
    const events = await withStore(values.config, async s => await s.events(since, parseLimit(eventsSpec, values.limit)))
    if (values.json === true) for (const e of events) process.stdout.write(`${JSON.stringify(e)}\n`)
    else {
      const lines = events.map(e => [new Date(e.at).toISOString(), e.action, e.service, e.client, e.user || '-', e.threat, e.url, e.quarantineId || '-', e.filterAction || '-'].join('\t'))
      process.stdout.write(['time\taction\tservice\tclient\tuser\tthreat\turl\tquarantine\tfilter', ...lines].join('\n') + '\n')
    }
    return 0
  })
}

/// `stats --by rule|sender`: mails per rule that hit, or per sender, with how many were flagged and blocked.
async function mailStats (by: 'rule' | 'sender', values: { readonly since?: string | undefined, readonly config?: string | undefined, readonly json?: boolean | undefined, readonly limit?: string | undefined }): Promise<number> {
  const since = Date.now() - parseAge(statsSpec, values.since ?? '24h')
  const store = await openSpamStore(loadConfig({ file: values.config }).stats, { readonly: true })
  try {
    const rows = await store.countBy(by, since, parseLimit(statsSpec, values.limit))
    if (values.json === true) for (const r of rows) process.stdout.write(`${JSON.stringify({ [by]: r.key, mails: r.mails, flagged: r.flagged, blocked: r.blocked })}\n`)
    else process.stdout.write([`${by}\tmails\tflagged\tblocked`, ...rows.map(r => [r.key, r.mails, r.flagged, r.blocked].join('\t'))].join('\n') + '\n')
    return 0
  } finally {
    await store.close()
  }
}
