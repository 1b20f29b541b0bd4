/// File types from content (magic bytes), never from names or Content-Type.
/// The magic table is data, in the spirit of ClamAV's filetypes_int.h; detect() walks it in order.
/// The union is shared by format handlers (which type they open) and the matcher (ClamAV target
/// types: 1 PE, 2 OLE2, 3 HTML, 4 mail, 5 graphics, 6 ELF, 7 ASCII text, 9 Mach-O, 10 PDF, 11 SWF, 12 Java).

export type FileType =
  // executables
  | 'pe' | 'elf' | 'macho' | 'java-class'
  // compressors
  | 'gzip' | 'zlib' | 'bzip2' | 'xz' | 'lzma' | 'zstd' | 'lzip' | 'szdd'
  // archives
  | 'zip' | 'tar' | 'cpio' | '7z' | 'rar' | 'cab' | 'arj' | 'lzh' | 'iso9660' | 'ar' | 'chm'
  // documents and mail
  | 'ole2' | 'pdf' | 'rtf' | 'html' | 'mail' | 'mbox' | 'tnef' | 'binhex' | 'swf'
  // media
  | 'graphics'
  // plain
  | 'text' | 'unknown'

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
