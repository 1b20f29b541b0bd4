/// The inline scan of a small mail (Engine.scanLeaf calls this for a layer detected as mail): a
/// message whose parts are all leaves (text/* parts, plain or HTML, decoded from base64 or
/// quoted-printable, holding no archive, no uuencoded/yEnc/BinHex block, no data: URI) is matched at
/// once on the calling thread, layer by layer as the walk would (engine.ts with formats/mail.ts):
/// the message, then each part in order with the message as its container, the first detection
/// ending it. Anything else (an attachment, a nested message, a container, a limit reached) is left
/// to the walk: undefined. The verdict (status, findings and their paths, stats, facts) is the one
/// scan() gives for the same bytes (test/unit/scan-inline-mail.test.ts runs mails both ways).
/// Why: a 10 KiB text mail handed to a pool worker cost as much CPU in the hand-off as in its walk
/// (BENCHMARKS.md, the milter cell); matching it here costs the walk alone.
import { detect, hasIsoMagic, type FileType } from './filetype.js'
import { hasEmbeddedMagic } from './embedded.js'
import { embeddedBlocks, leafParts, parseEntity, type Part } from './formats/mail.js'
import { ScanBudget, type ScanLimits } from './budget.js'
import { macroChild } from './facts/collector.js'
import { verdictOf } from './outcome.js'
import type { Matcher } from './matcher/matcher.js'
import { maxFactTypes, type Finding, type Verdict } from './verdict.js'

/// Part types matched here: those with no format handler and no facts beyond their type (the walk
/// reads code facts from PE, CAB and Java class layers), and HTML, whose handler only decodes data:
/// URIs (a part holding none has no children).
const leafTypes: ReadonlySet<FileType> = new Set(['text', 'html', 'unknown'])

/// Text a data: URI could start with: the HTML handler's pattern needs `data:`.
const dataUri = /data:/i

/// BinHex's first line (formats/mail.ts embeddedBlocks looks for it).
const binhexMark = '(This file must be converted with BinHex'

/// The inline scan never stops for a client: it runs to its end in microseconds.
const neverAborted = new AbortController().signal

/// A part as the walk would scan it, or undefined when it is not a leaf.
/// An empty part is no layer (mailParts skips it): `skip`.
function leafOf (part: Part, cap: number): { readonly bytes: Buffer, readonly type: FileType } | 'skip' | undefined {
  if (typeof part.bytes === 'string') return undefined // uuencoded: its blocks are the files
  const bytes = part.bytes
  if (bytes.length === 0) return 'skip'
  if (!part.text) return undefined // an attachment
  // embeddedBlocks reads the text only where one of its marks is (`=ybegin` holds `begin` too).
  if ((bytes.includes('begin') || bytes.includes(binhexMark)) && embeddedBlocks(bytes.toString('latin1'), cap).length > 0) return undefined
  const type = detect(bytes.subarray(0, 4096))
  if (!leafTypes.has(type)) return undefined
  if (type === 'html' ? dataUri.test(bytes.toString('latin1')) : hasEmbeddedMagic(bytes) || hasIsoMagic(bytes)) return undefined
  return { bytes, type }
}

/// `bytes`: a layer detect() called mail, at most leafMaxBytes long.
export function scanSmallMail (matcher: Matcher, bytes: Uint8Array, name: string, limits: ScanLimits): Verdict | undefined {
  const started = performance.now()
  const budget = new ScanBudget(limits, neverAborted)
  if (!budget.enter(0)) return undefined
  const findings: Finding[] = []
  const types: FileType[] = ['mail']
  let script = false
  let macros = false
  let total = bytes.length
  let objects = 1
  const verdict = (): Verdict => {
    const stats = { bytes: total, objects, depth: budget.maxDepthSeen, ms: performance.now() - started }
    return { ...verdictOf(findings, budget, name, stats), facts: { types, encrypted: false, code: [], macros, script } }
  }
  const top = matcher.matchAll(bytes, 'mail')
  for (const found of top.names) findings.push({ name: found, kind: 'signature', path: [name] })
  if (top.allowListed || findings.length > 0) return verdict()
  budget.path = [name]
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('latin1')
  for (const part of leafParts(parseEntity(text))) {
    if (!budget.alive()) return undefined
    const leaf = leafOf(part, limits.maxFileBytes)
    if (leaf === undefined) return undefined
    if (leaf === 'skip') continue
    // A limit (file size, scan size, depth, file count) is the walk's to record.
    if (!budget.consume(leaf.bytes.length, 0) || !budget.enter(1)) return undefined
    macros ||= macroChild(part.name)
    objects++
    total += leaf.bytes.length
    if (!types.includes(leaf.type) && types.length < maxFactTypes) types.push(leaf.type)
    // FactsCollector.layer: a text layer starting with #! is a script.
    script ||= leaf.type === 'text' && leaf.bytes[0] === 0x23 && leaf.bytes[1] === 0x21
    const match = matcher.matchAll(leaf.bytes, leaf.type, ['mail'])
    for (const found of match.names) findings.push({ name: found, kind: 'signature', path: [name, part.name] })
    if (findings.length > 0) break
  }
  return budget.alive() ? verdict() : undefined
}
