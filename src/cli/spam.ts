/// `scanwall spam learn --spam PATH --ham PATH [--all]`: teaches the shared Bayesian model from mail
/// (an mbox, a message file, or a directory of either), in the decision database of the same
/// --config the node runs with; by default train-on-error (src/spam/train.ts: only what the model
/// misjudges or is unsure about), `--all` every message. A released false positive is learned with `--ham FILE` (after
/// `scanwall quarantine export ID FILE`), reported spam with `--spam FILE`: a message learned
/// before as the other class moves over. Running nodes pick the change up within
/// spam.modelRefreshSeconds.
import { loadConfig } from '../../config/load.js'
import { openSpamStore } from '../spam/store/open.js'
import { Learner, type LearnCounts } from '../spam/learner.js'
import { messagesIn } from '../spam/mailbox.js'
import { UsageError, runGroup, usage, withOptions, type CommandSpec, type OptionSpec } from './args.js'

const config = { type: 'string', short: 'c', value: 'FILE', help: 'the configuration file the node runs with (stats.url or stats.path)' } satisfies OptionSpec

const learnSpec = {
  name: 'spam learn',
  about: 'Learn messages as spam and/or ham into the shared model: by default only those the model misjudges or is unsure about (train-on-error, in passes), spam and ham interleaved.',
  options: {
    spam: { type: 'string', value: 'PATH', help: 'an mbox, a message file or a directory of them: learned as spam' },
    ham: { type: 'string', value: 'PATH', help: 'the same, learned as ham (a released false positive, a good mail folder)' },
    all: { type: 'boolean', help: 'learn every message, not only those the model misjudges' },
    config,
  },
} satisfies CommandSpec

/// Messages learned per database transaction (--all).
const batch = 500

async function learnPath (learner: Learner, path: string, spam: boolean): Promise<LearnCounts> {
  const total = { learned: 0, relearned: 0, already: 0 }
  let pending: Array<{ bytes: Uint8Array, spam: boolean }> = []
  const flush = async (): Promise<void> => {
    const c = await learner.learn(pending)
    total.learned += c.learned; total.relearned += c.relearned; total.already += c.already
    pending = []
  }
  for (const bytes of messagesIn(path)) {
    pending.push({ bytes, spam })
    if (pending.length >= batch) await flush()
  }
  if (pending.length > 0) await flush()
  return total
}

const actions = {
  learn: {
    about: learnSpec.about,
    run: async (args: string[]) => await withOptions(learnSpec, args, async ({ values }) => {
      if (values.spam === undefined && values.ham === undefined) throw new UsageError(learnSpec.name, 'give --spam PATH, --ham PATH or both', usage(learnSpec))
      const store = await openSpamStore(loadConfig({ file: values.config }).stats)
      try {
        const learner = new Learner(store)
        await learner.refresh()
        if (values.all === true) {
          for (const [path, spam] of [[values.spam, true], [values.ham, false]] as const) {
            if (path === undefined) continue
            const c = await learnPath(learner, path, spam)
            process.stdout.write(`${path}: ${c.learned} learned as ${spam ? 'spam' : 'ham'}, ${c.relearned} moved from ${spam ? 'ham' : 'spam'}, ${c.already} already known\n`)
          }
        } else {
          const read = (path: string | undefined): Iterable<Uint8Array> => path === undefined ? [] : messagesIn(path)
          const c = await learner.learnOnErrors(read(values.spam), read(values.ham))
          process.stdout.write(`${c.learned} learned (misjudged or unsure), ${c.confident} already judged right, ${c.relearned} moved to the other class, ${c.already} already known\n`)
        }
        process.stdout.write(`model: ${learner.model.spamMessages} spam, ${learner.model.hamMessages} ham, ${learner.model.size} tokens\n`)
      } finally {
        await store.close()
      }
      return 0
    }),
  },
}

export async function runSpam (args: string[]): Promise<number> {
  return await runGroup('spam', actions, args)
}
