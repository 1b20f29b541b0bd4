/// The text of every layer of an object the engine can open: the same format handlers the virus
/// scan uses (src/engine/formats: MIME parts, zip/OOXML members, gzip, tar, PDF streams, OLE2
/// streams …) under the same kind of budget, and each leaf turned into text (HTML and XML tags
/// removed, UTF-16 read as such). Why a walk of our own rather than text layers returned by the
/// pool's walk: the virus walk stops at the first detection and skips layers the matcher decides
/// by hash, while a content rule must read every layer; and the scan result crosses a thread
/// boundary as a small verdict, not megabytes of text. This walk runs where the caller runs (the
/// milter adapter's end of message, the ICAP handler for REQMOD uploads), bounded by `limits`.
import { ScanBudget, defaultLimits, type ScanLimits } from '../engine/budget.js'
import { detectType } from '../engine/filetype.js'
import { handlerFor, type HandlerEnv } from '../engine/formats/registry.js'
import { SevenZipBackend } from '../engine/formats/sevenzip.js'
import { MemorySource, type ByteSource } from '../engine/source.js'
import { decodeEntities } from '../spam/message.js'

export interface TextLayer { readonly path: string, readonly text: string }

/// Types whose layers are read as text; the rest (executables, images) hold no words for us.
const textual = new Set(['text', 'html', 'unknown', 'rtf'])
/// Text taken from one leaf: card numbers and keywords sit in the first megabytes of any real file.
const maxLeafText = 8 * 1024 * 1024

/// Smaller than the virus scan's: a content rule reads text, and the walk runs on the caller's thread.
export const contentLimits: ScanLimits = { ...defaultLimits, maxScanBytes: 200 * 1024 * 1024, maxFileBytes: 50 * 1024 * 1024, maxDepth: 8, maxFiles: 2000, maxScanMs: 30_000, spoolAboveBytes: 64 * 1024 * 1024 }

/// Bytes of a leaf as text: UTF-16LE when every other byte is zero (Word, OLE streams), UTF-8
/// when valid, else latin1; markup stripped to its words.
export function leafText (bytes: Uint8Array): string {
  const head = bytes.subarray(0, Math.min(bytes.length, 512))
  let zeros = 0
  for (let i = 1; i < head.length; i += 2) if (head[i] === 0) zeros++
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, Math.min(bytes.byteLength, maxLeafText))
  let text: string
  if (head.length > 16 && zeros > head.length / 4) text = buf.toString('utf16le')
  else {
    try { text = new TextDecoder('utf-8', { fatal: true }).decode(buf) } catch { text = buf.toString('latin1') }
  }
  if (/^\s*(?:<\?xml|<!doctype|<html|<[a-z:]+[\s>])/i.test(text.slice(0, 512))) {
    // Tags become spaces except between runs of one word (OOXML splits a word across <w:t> runs).
    text = decodeEntities(text.replace(/<(script|style)\b[\s\S]*?<\/\1\s*>/gi, ' ').replace(/<\/w:t>\s*<\/w:r>\s*<w:r\b[^>]*>(?:\s*<w:rPr>[\s\S]*?<\/w:rPr>)?\s*<w:t\b[^>]*>/g, '').replace(/<[^>]{0,2000}>/g, ' '))
  }
  return text
}

/// Every text layer of the object, outermost first; the object itself counts as a layer when it is text.
export async function textLayers (bytes: Uint8Array, name: string, limits: ScanLimits = contentLimits, signal: AbortSignal = new AbortController().signal): Promise<TextLayer[]> {
  const budget = new ScanBudget(limits, signal)
  const env: HandlerEnv = { sevenZip: new SevenZipBackend() }
  const out: TextLayer[] = []
  const walk = async (source: ByteSource, path: string, depth: number): Promise<void> => {
    if (!budget.enter(depth)) return
    const type = await detectType(source)
    const handler = textual.has(type) ? undefined : await handlerFor(type)
    if (type === 'mail') {
      // The header block: a subject can carry the words too.
      const head = Buffer.from(await source.read(0, Math.min(source.size, 65_536))).toString('latin1')
      out.push({ path: `${path}#headers`, text: head.slice(0, Math.max(0, head.search(/\r?\n\r?\n/))) })
    }
    if (handler === undefined) {
      if (textual.has(type) || type === 'mail') out.push({ path, text: leafText(await source.read(0, Math.min(source.size, maxLeafText))) })
      return
    }
    try {
      for await (const child of handler.extract(source, budget, env)) {
        try {
          await walk(child.source, `${path}/${child.name}`, depth + 1)
        } finally {
          child.release?.()
        }
        if (!budget.alive()) return
      }
    } catch {
      // A damaged container: what was read before stays; the virus scan reports the damage.
    }
  }
  await walk(new MemorySource(bytes), name, 0)
  return out
}
