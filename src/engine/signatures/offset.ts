/// ClamAV signature offsets: `*` (anywhere), `n` (absolute), `EOF-n` (from the end), and for
/// PE/ELF/Mach-O layers `EP+n`, `EP-n` (entry point), `Sx+n` (section x's data), `SL+n` (last
/// section), `SEx` (anywhere inside section x); each but `*` optionally followed by `,maxshift`
/// (the start may lie up to maxshift bytes later). Executable offsets are resolved per layer from
/// src/engine/executable (matcher/ext.ts); `VI` and `$n$` (version-info and macro offsets) are
/// reported as unsupported.
import type { ExecutableInfo } from '../executable/types.js'

export type OffsetKind = 'any' | 'abs' | 'eof' | 'ep' | 'sec' | 'last' | 'secAll'

/// The match must start in [base, base + shift], base counted from the start, the end, the entry
/// point (signed) or the start of section `section` / the last section.
export interface Offset { readonly kind: OffsetKind, readonly base: number, readonly shift: number, readonly section?: number }

export const anyOffset: Offset = { kind: 'any', base: 0, shift: 0 }

/// Offsets the streaming matcher cannot check on its own (they need the layer's executable layout).
export function isExecutableOffset (o: Offset): boolean {
  return o.kind === 'ep' || o.kind === 'sec' || o.kind === 'last' || o.kind === 'secAll'
}

/// Returns an Offset, or a reason (prefixed `unsupported:` for valid offsets this engine cannot honour).
export function parseOffset (text: string): Offset | string {
  if (text === '*') return anyOffset
  const [head = '', shiftText, extra] = text.split(',')
  if (extra !== undefined) return `bad offset '${text}'`
  let shift = 0
  if (shiftText !== undefined) {
    if (!/^\d+$/.test(shiftText)) return `bad offset shift '${shiftText}'`
    shift = Number(shiftText)
  }
  if (/^\d+$/.test(head)) return { kind: 'abs', base: Number(head), shift }
  const eof = /^EOF-(\d+)$/.exec(head)
  if (eof !== null) return { kind: 'eof', base: Number(eof[1]), shift }
  const ep = /^EP([+-])(\d+)$/.exec(head)
  if (ep !== null) return { kind: 'ep', base: ep[1] === '-' ? -Number(ep[2]) : Number(ep[2]), shift }
  const sec = /^S(\d+)\+(\d+)$/.exec(head)
  if (sec !== null) return { kind: 'sec', section: Number(sec[1]), base: Number(sec[2]), shift }
  const last = /^SL\+(\d+)$/.exec(head)
  if (last !== null) return { kind: 'last', base: Number(last[1]), shift }
  const all = /^SE(\d+)$/.exec(head)
  if (all !== null) return { kind: 'secAll', section: Number(all[1]), base: 0, shift: 0 }
  if (/^(VI|\$\d+\$?)$/.test(head)) return `unsupported:offset ${head === 'VI' ? 'VI (PE version information)' : '$n$ (macro group)'}`
  return `bad offset '${text}'`
}

/// The window [min, max] a match start must lie in, for a layer of `size` bytes with executable
/// layout `exe` (undefined: not an executable); undefined when the offset cannot apply to the layer.
export function offsetWindow (o: Offset, size: number, exe: ExecutableInfo | undefined): [number, number] | undefined {
  let base: number
  switch (o.kind) {
    case 'any': return [0, size]
    case 'abs': base = o.base; break
    case 'eof': base = size - o.base; break
    case 'ep': {
      if (exe?.entryPoint === undefined) return undefined
      base = exe.entryPoint + o.base
      break
    }
    case 'sec': case 'secAll': {
      const s = exe?.sections[o.section ?? 0]
      if (s === undefined) return undefined
      if (o.kind === 'secAll') return [s.rawOffset, s.rawOffset + s.rawSize]
      base = s.rawOffset + o.base
      break
    }
    case 'last': {
      const s = exe?.sections[exe.sections.length - 1]
      if (s === undefined) return undefined
      base = s.rawOffset + o.base
      break
    }
  }
  if (base < 0 || base > size) return undefined
  return [base, base + o.shift]
}
