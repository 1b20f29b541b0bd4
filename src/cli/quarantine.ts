/// `scanwall quarantine list|show|export|release|delete`: the quarantine directory and key of the
/// same --config file the node runs with. Works on the files directly, so it needs no running node.
/// Releasing a message the spam filter quarantined also teaches the shared spam model it was ham
/// (src/spam/release.ts), in the decision database of the same config.
import { loadConfig } from '../../config/load.js'
import { errorMessage } from '../errors.js'
import { openQuarantineStore } from '../quarantine/open.js'
import { learnReleased } from '../spam/release.js'
import { Learner } from '../spam/learner.js'
import { openSpamStore } from '../spam/store/open.js'
import type { QuarantineEntry, QuarantineStore } from '../quarantine/store.js'
import { UsageError, runGroup, usage, withOptions, type CommandSpec, type OptionSpec } from './args.js'

const config = { type: 'string', short: 'c', value: 'FILE', help: 'the configuration file the node runs with (quarantine.dir and its key)' } satisfies OptionSpec
const json = { type: 'boolean', help: 'print JSON (one object per line for list)' } satisfies OptionSpec

const specs = {
  list: { name: 'quarantine list', about: 'List quarantined objects, oldest first: id, time, size, threat, URL.', options: { config, json } },
  show: { name: 'quarantine show', about: 'Everything recorded about one object (threat, URL, client, user, service, node, time, hashes).', options: { config }, positionals: 'ID' },
  export: { name: 'quarantine export', about: 'Write the original bytes of one object to FILE (a new file, mode 0600).', options: { config }, positionals: 'ID FILE' },
  release: { name: 'quarantine release', about: 'Release one object (judged harmless): the same bytes (by SHA-256) pass the policy for the profile\'s releaseHours on nodes using this quarantine; it stays stored until retention or delete. A message the spam filter quarantined is learned as ham (spam.enabled).', options: { config }, positionals: 'ID' },
  delete: { name: 'quarantine delete', about: 'Delete one object and its metadata.', options: { config }, positionals: 'ID' },
} satisfies Record<string, CommandSpec>

async function store (configFile: string | undefined): Promise<QuarantineStore> {
  return await openQuarantineStore(loadConfig({ file: configFile }).quarantine)
}

/// Exactly `count` positionals, or a UsageError naming what is missing or extra.
function want (spec: CommandSpec, positionals: string[], count: number): string[] {
  if (positionals.length < count) throw new UsageError(spec.name, `missing ${spec.positionals?.split(' ')[positionals.length] ?? 'argument'}`, usage(spec))
  if (positionals.length > count) throw new UsageError(spec.name, `unexpected argument '${positionals[count] ?? ''}'`, usage(spec))
  return positionals
}

function line (e: QuarantineEntry): string {
  return [e.id, e.at, String(e.size), e.released === undefined ? e.threat : `${e.threat} (released)`, e.url].join('\t')
}

const actions = {
  list: {
    about: specs.list.about,
    run: async (args: string[]) => await withOptions(specs.list, args, async ({ values }) => {
      const entries = await (await store(values.config)).list()
      if (values.json === true) for (const e of entries) process.stdout.write(`${JSON.stringify(e)}\n`)
      else process.stdout.write(['id\ttime\tsize\tthreat\turl', ...entries.map(line)].join('\n') + '\n')
      return 0
    }),
  },
  show: {
    about: specs.show.about,
    run: async (args: string[]) => await withOptions(specs.show, args, async ({ values, positionals }) => {
      const [id = ''] = want(specs.show, positionals, 1)
      process.stdout.write(`${JSON.stringify(await (await store(values.config)).get(id), null, 2)}\n`)
      return 0
    }),
  },
  export: {
    about: specs.export.about,
    run: async (args: string[]) => await withOptions(specs.export, args, async ({ values, positionals }) => {
      const [id = '', file = ''] = want(specs.export, positionals, 2)
      const entry = await (await store(values.config)).export(id, file)
      process.stdout.write(`${file}: ${entry.size} bytes, sha256 ${entry.sha256}\n`)
      return 0
    }),
  },
  release: {
    about: specs.release.about,
    run: async (args: string[]) => await withOptions(specs.release, args, async ({ values, positionals }) => {
      const [id = ''] = want(specs.release, positionals, 1)
      const tree = loadConfig({ file: values.config })
      const quarantine = await openQuarantineStore(tree.quarantine)
      const entry = await quarantine.release(id)
      process.stdout.write(`${id}: released ${entry.released ?? ''}\n`)
      if (!tree.spam.enabled) return 0
      // The release stands whatever happens next; a model that could not learn is said, and the
      // exit status tells a script to retry with `scanwall spam learn --ham`.
      try {
        const spamStore = await openSpamStore(tree.stats)
        try {
          const learned = await learnReleased(quarantine, entry, new Learner(spamStore))
          if (learned !== undefined) process.stdout.write(`${id}: learned as ham (${learned.relearned > 0 ? 'moved from spam' : learned.already > 0 ? 'already ham' : 'new'})\n`)
        } finally {
          await spamStore.close()
        }
      } catch (err) {
        process.stderr.write(`scanwall quarantine release: ${id} released, but not learned as ham: ${errorMessage(err)}\n`)
        return 1
      }
      return 0
    }),
  },
  delete: {
    about: specs.delete.about,
    run: async (args: string[]) => await withOptions(specs.delete, args, async ({ values, positionals }) => {
      const [id = ''] = want(specs.delete, positionals, 1)
      await (await store(values.config)).delete(id)
      process.stdout.write(`${id}: deleted\n`)
      return 0
    }),
  },
}

export async function runQuarantine (args: string[]): Promise<number> {
  return await runGroup('quarantine', actions, args)
}
