/// Unix ar archives: Debian .deb packages (debian-binary, control.tar.*, data.tar.*) and static
/// libraries, with GNU (/-prefixed long-name table) and BSD (#1/len) long names. Own parser: 60-byte
/// text headers; members are zero-copy slices of the parent.
import type { FormatHandler, Layer } from './registry.js'
import type { ByteSource } from '../source.js'
import type { ScanBudget } from '../budget.js'
import { SliceSource } from './slice.js'

async function * extract (source: ByteSource, budget: ScanBudget): AsyncIterable<Layer> {
  let names = ''
  for (let at = 8; at + 60 <= source.size;) {
    if (!budget.alive()) return
    const h = Buffer.from(await source.read(at, 60))
    if (h.toString('latin1', 58, 60) !== '`\n') { budget.report('Heuristics.Broken.Ar', 'broken', `no member header at offset ${at}`); return }
    let name = h.toString('latin1', 0, 16).trimEnd()
    const size = parseInt(h.toString('latin1', 48, 58).trim(), 10)
    if (!Number.isFinite(size) || size < 0) return
    let data = at + 60
    let length = size
    if (name === '//') names = Buffer.from(await source.read(data, Math.min(size, 1 << 20))).toString('latin1')
    else if (/^#1\/\d+$/.test(name)) {
      const len = Number(name.slice(3))
      name = Buffer.from(await source.read(data, len)).toString('utf8').replace(/\0.*$/s, '')
      data += len
      length -= len
    } else if (/^\/\d+$/.test(name)) {
      const off = Number(name.slice(1))
      name = names.slice(off, names.indexOf('\n', off)).replace(/\/$/, '')
    } else name = name.replace(/\/$/, '')
    if (name !== '' && name !== '/' && name !== '//' && name !== '/SYM64' && length > 0) {
      if (budget.admits(length) && budget.consume(Math.min(length, source.size - data), 0)) {
        if (data + length > source.size) budget.report('Heuristics.Broken.Ar', 'broken', `${name} truncated: ${length} bytes declared, ${source.size - data} present`)
        yield { name, source: new SliceSource(source, data, length) }
      } else if (!budget.alive()) return
    }
    at += 60 + size + (size % 2)
  }
}

export const arHandler: FormatHandler = { type: 'ar', extract }
