/// The constants of htmlnorm.ts's state machine: its states, the byte-class tables its fast paths
/// run on, the literal tag and attribute names it compares with, and the small byte predicates.
/// Kept apart so the machine's file holds only the machine; nothing here has state but the bounded
/// cache of short reference names.
import { entityCodePoint } from './html-entities.js'

export const NORM = 0
export const SKIP_WS = 1
export const TRIM_WS = 2
export const TAG = 3
export const TAG_ARG = 4
export const TAG_ARG_EQUAL = 5
export const TAG_ARG_VAL = 6
export const COMMENT = 7
export const PROCESS_TAG = 8
export const CHAR_REF = 9
export const ENTITY = 10
export const NUMREF = 11
export const EIGHT_BIT = 12
export const DATA_TYPE = 13
export const DATA_INIT = 14
export const DATA = 15
export const DATA_HEX = 16
export const DATA_HEX_DONE = 17
export const DATA_FINISH = 18
export const JSDECODE = 19 // before an encoded script's start marker
export const JSDECODE_LENGTH = 20
export const JSDECODE_DECRYPT = 21

/// Where the parser is: in text, or inside a script or style body (kept, but without whitespace).
export const OUTSIDE = 0
export const SCRIPT = 1
export const STYLE = 2

/// libclamav's HTML_STR_LENGTH: tag names, attribute names and values and reference names are
/// remembered up to this many bytes (the output goes on).
export const STR_MAX = 1024
export const INT64_MAX = (1n << 63n) - 1n

export const isSpace = (c: number): boolean => c === 0x20 || (c >= 0x09 && c <= 0x0d)
export const lower = (c: number): number => c >= 0x41 && c <= 0x5a ? c | 0x20 : c
export const isDigit = (c: number): boolean => c >= 0x30 && c <= 0x39
export const isHex = (c: number): boolean => isDigit(c) || ((c | 0x20) >= 0x61 && (c | 0x20) <= 0x66)
export const isAlnum = (c: number): boolean => isDigit(c) || ((c | 0x20) >= 0x61 && (c | 0x20) <= 0x7a)
const bytesOf = (s: string): Uint8Array => Buffer.from(s, 'latin1')
/// The code point of the reference name buf[0, len) (entityCodePoint), looked up without building
/// a string for names of up to 7 bytes (7-bit bytes: a number below 2^49 is the key), the case of
/// nearly every reference a page holds. Bounded like entityCodePoint's cache.
const shortNames = new Map<number, number>()
export function entityCodePointOf (buf: Uint8Array, len: number): number {
  const short = len <= 7
  let key = 0
  if (short) for (let k = 0; k < len; k++) key = key * 128 + buf[k]!
  let cp = short ? shortNames.get(key) : undefined
  if (cp !== undefined) return cp
  let name = ''
  for (let k = 0; k < len; k++) name += String.fromCharCode(buf[k]!)
  cp = entityCodePoint(name)
  if (short && shortNames.size < 4096) shortNames.set(key, cp)
  return cp
}
export const equals = (buf: Uint8Array, len: number, lit: Uint8Array): boolean => {
  if (len !== lit.length) return false
  for (let i = 0; i < len; i++) if (buf[i] !== lit[i]) return false
  return true
}
export const [SCRIPT_TAG, STYLE_TAG, END_SCRIPT, END_STYLE, A_TAG, IMG_TAG, HREF, SRC, DATA_URI, QUOTED_DATA_URI, ASP_TAG] =
  ['script', 'style', '/script', '/style', 'a', 'img', 'href', 'src', 'data:', '"data:', '%@'].map(bytesOf) as [Uint8Array, Uint8Array, Uint8Array, Uint8Array, Uint8Array, Uint8Array, Uint8Array, Uint8Array, Uint8Array, Uint8Array, Uint8Array]

/// Byte classes of the fast paths. TEXT[c]: what text writes for c (lower-cased) when c is plain
/// text, 0x21-0x7f but `<` and `&`; 0 for every byte #text handles otherwise or leaves to #step.
/// SCRIPT_TEXT: the same inside a script or style body, where `'` is written `"`.
export const TEXT = new Uint8Array(256)
export const SCRIPT_TEXT = new Uint8Array(256)
/// LOWER[c]: c lower-cased (tag and attribute names, values in `nocomment`).
export const LOWER = new Uint8Array(256)
/// SPACE[c]: WS for whitespace (\n is whitespace as ClamAV writes it a space), CR for \r (dropped
/// outside data: payloads), else 0. A run of whitespace and \r is skipped alike in TRIM_WS/SKIP_WS.
export const WS = 1
export const CR = 2
export const SPACE = new Uint8Array(256)
/// NAME_STOP[c]: where a tag or attribute name ends (whitespace, `>`, and `=` for attribute names);
/// CR: \r, dropped inside a name. PLAIN_VALUE[c]: an attribute-value byte #plainValue takes.
export const NAME_STOP = new Uint8Array(256)
export const ARG_STOP = new Uint8Array(256)
export const PLAIN_VALUE = new Uint8Array(256)
/// ENTITY_NAME[c]: a byte of a reference name (ASCII letters and digits, `_`, `:`, `-`).
export const ENTITY_NAME = new Uint8Array(256)
for (let c = 0; c < 256; c++) {
  LOWER[c] = lower(c)
  if (c > 0x20 && c < 0x80 && c !== 0x3c && c !== 0x26) { TEXT[c] = lower(c); SCRIPT_TEXT[c] = c === 0x27 ? 0x22 : lower(c) }
  SPACE[c] = c === 0x0d ? CR : isSpace(c) ? WS : 0
  NAME_STOP[c] = c === 0x0d ? CR : isSpace(c) || c === 0x3e ? WS : 0
  ARG_STOP[c] = c === 0x3d ? WS : NAME_STOP[c]!
  ENTITY_NAME[c] = isAlnum(c) || c === 0x5f || c === 0x3a || c === 0x2d ? 1 : 0
  PLAIN_VALUE[c] = c > 0x20 && c < 0x7f && c !== 0x22 && c !== 0x27 && c !== 0x26 && c !== 0x3e ? 1 : 0
}

/// The value so far opens a data: URI (`data:` or `"data:`, as libclamav checks it).
export const isDataUri = (val: Uint8Array, len: number): boolean => (len === 5 && equals(val, 5, DATA_URI)) || (len === 6 && equals(val, 6, QUOTED_DATA_URI))

/// Full stops of CJK text that ClamAV writes as '.' (UTF-8 of U+3002, U+FF0E, U+FE52).
export const isWideStop = (mb: number): boolean => mb === 0xe38082 || mb === 0xefbc8e || mb === 0xefb992
export const HEX = bytesOf('0123456789abcdef')
export const JSCRIPT_ENCODE = bytesOf('jscript.encode')
export const VBSCRIPT_ENCODE = bytesOf('vbscript.encode')
export const AMP_HASH_X = bytesOf('&#x')
