/// RTF: embedded objects (\object … {\*\objdata hex}) hex-decoded, with the OLE1 header and a
/// Package wrapper taken off when present, so the dropped file itself is scanned. Hand-written: RTF
/// readers on npm render text and drop objects.
import type { FormatHandler, Layer } from './registry.js'
import type { ByteSource } from '../source.js'
import { MemorySource } from '../source.js'
import type { ScanBudget } from '../budget.js'
import { parseOle1, parsePackage } from './ole-package.js'

/// The hex digits of the group that starts at `from`, up to its closing brace.
function groupHex (text: string, from: number): string {
  let depth = 1
  let out = ''
  let i = from
  for (; i < text.length && depth > 0; i++) {
    const c = text[i]
    if (c === '{') depth++
    else if (c === '}') depth--
    else if (c === '\\') { while (i + 1 < text.length && /[a-z0-9-]/i.test(text[i + 1] ?? '')) i++ } else if (c !== undefined && /[0-9a-fA-F]/.test(c)) out += c
  }
  return out
}

async function * extract (source: ByteSource, budget: ScanBudget): AsyncIterable<Layer> {
  const text = Buffer.from(await source.read(0, source.size)).toString('latin1')
  let n = 0
  for (let at = text.indexOf('\\objdata'); at !== -1; at = text.indexOf('\\objdata', at + 8)) {
    if (!budget.alive()) return
    const hex = groupHex(text, at + 8)
    const bytes = Buffer.from(hex.length % 2 === 0 ? hex : hex.slice(0, -1), 'hex')
    if (bytes.length === 0) continue
    if (!budget.consume(bytes.length, 0)) { if (!budget.alive()) return; continue }
    const name = `object-${n++}`
    yield { name, source: new MemorySource(bytes) }
    const ole1 = parseOle1(bytes)
    if (ole1 === undefined) continue
    const packaged = ole1.className === 'Package' ? parsePackage(ole1.native) : undefined
    if (packaged !== undefined) yield { name: `${name}/${packaged.name}`, source: new MemorySource(packaged.data) }
    else if (ole1.native.length > 0) yield { name: `${name}/${ole1.className}`, source: new MemorySource(ole1.native) }
  }
}

export const rtfHandler: FormatHandler = { type: 'rtf', extract }
