/// ClamAV signature offsets: `*` (anywhere), `n` (absolute), `EOF-n` (from the end), each optionally
/// followed by `,maxshift` (the start may lie up to maxshift bytes later). PE-relative offsets
/// (`EP+n`, `Sx+n`, `SL+n`, `SE`) need a PE parser and are reported as unsupported.

export type OffsetKind = 'any' | 'abs' | 'eof'

/// The match must start in [base, base + shift], base counted from the start or from the end.
export interface Offset { readonly kind: OffsetKind, readonly base: number, readonly shift: number }

export const anyOffset: Offset = { kind: 'any', base: 0, shift: 0 }

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
  if (/^(EP[+-]\d+|S\d+[+-]\d+|SL[+-]\d+|SE\d+|VI|\$\d+\$)$/.test(head)) return `unsupported:offset '${text}'`
  return `bad offset '${text}'`
}
