/// A quarantine release as a lesson for the spam model: an operator who releases a message the spam
/// filter quarantined (threat `Spam`, spam-step.ts) judged it a false positive, so the shared Bayes
/// model learns it as ham (learning moves its tokens over if it was learned as spam before). Called
/// by `scanwall quarantine release` and by the console's release (node.ts hands it in); anything
/// else released (a virus, a content rule) teaches nothing.
import type { Readable } from 'node:stream'
import type { QuarantineEntry, QuarantineStore } from '../quarantine/store.js'
import type { Learner, LearnCounts } from './learner.js'

/// The threat name a spam-quarantined message is kept under.
export const spamThreat = 'Spam'

/// Largest released message read back to learn: the milter filters nothing larger than
/// milter.filters.spamMaxBytes (2 MiB by default), so this only guards against a damaged entry.
const maxLearnBytes = 64 * 1024 * 1024

export interface ReleaseOutcome {
  readonly entry: QuarantineEntry
  /// Set when the message was learned as ham (undefined: not spam, or no model to teach).
  readonly learned?: LearnCounts
}

async function readAll (stream: Readable, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of stream) {
    const b = chunk as Buffer
    size += b.length
    if (size > limit) { stream.destroy(); throw new Error(`larger than ${limit} bytes`) }
    chunks.push(b)
  }
  return Buffer.concat(chunks)
}

/// Learns a released entry as ham when the spam filter quarantined it.
export async function learnReleased (store: Pick<QuarantineStore, 'open'>, entry: QuarantineEntry, learner: Pick<Learner, 'learn'> | undefined): Promise<LearnCounts | undefined> {
  if (entry.threat !== spamThreat || learner === undefined) return undefined
  const { stream } = await store.open(entry.id)
  const bytes = await readAll(stream, maxLearnBytes)
  return await learner.learn([{ bytes, spam: false }])
}

/// Releases one quarantined object and, when it was spam, teaches the model it was ham.
export async function releaseAndLearn (store: QuarantineStore, id: string, learner: Pick<Learner, 'learn'> | undefined): Promise<ReleaseOutcome> {
  const entry = await store.release(id)
  const learned = await learnReleased(store, entry, learner)
  return learned === undefined ? { entry } : { entry, learned }
}
