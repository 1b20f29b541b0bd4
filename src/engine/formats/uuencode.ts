/// Bare uuencoded, yEnc and BinHex text (news posts, .uue/.hqx files): the decoded files are the
/// children. Decoders in encodings.ts (hand-written; see there).
import type { FormatHandler, Layer } from './registry.js'
import type { ByteSource } from '../source.js'
import { MemorySource } from '../source.js'
import type { ScanBudget } from '../budget.js'
import type { FileType } from '../filetype.js'
import { embeddedBlocks } from './mail.js'

async function * extract (source: ByteSource, budget: ScanBudget): AsyncIterable<Layer> {
  const text = Buffer.from(await source.read(0, source.size)).toString('latin1')
  for (const block of embeddedBlocks(text, budget.limits.maxFileBytes)) {
    if (block.bytes.length === 0) continue
    if (!budget.consume(block.bytes.length, 0)) { if (!budget.alive()) return; continue }
    yield { name: block.name, source: new MemorySource(block.bytes) }
  }
}

const textBlocks = (type: FileType): FormatHandler => ({ type, extract })

export const uuencodeHandler = textBlocks('uuencode')
export const yencHandler = textBlocks('yenc')
export const binhexHandler = textBlocks('binhex')
