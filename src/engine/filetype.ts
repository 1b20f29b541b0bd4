/// File types from content (magic bytes), never from names or Content-Type.
/// The magic table is data, in the spirit of ClamAV's filetypes_int.h; detect() walks it in order.

export type FileType = 'gzip' | 'unknown'

interface Magic { readonly type: FileType, readonly offset: number, readonly bytes: readonly number[] }

const magics: readonly Magic[] = [
  { type: 'gzip', offset: 0, bytes: [0x1f, 0x8b, 0x08] },
]

export function detect (head: Uint8Array): FileType {
  for (const magic of magics) {
    if (head.length < magic.offset + magic.bytes.length) continue
    if (magic.bytes.every((b, i) => head[magic.offset + i] === b)) return magic.type
  }
  return 'unknown'
}
