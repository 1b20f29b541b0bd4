/// Scanwall FileType → ClamAV CL_TYPE_* name, for the `.ldb` TDB keys Container and Intermediates
/// (which name a layer's ancestors by ClamAV's type names).
import type { FileType } from '../filetype.js'

const names: Readonly<Record<FileType, string>> = {
  pe: 'CL_TYPE_MSEXE',
  elf: 'CL_TYPE_ELF',
  macho: 'CL_TYPE_MACHO',
  'java-class': 'CL_TYPE_JAVA',
  gzip: 'CL_TYPE_GZ',
  zlib: 'CL_TYPE_BINARY_DATA',
  bzip2: 'CL_TYPE_BZ',
  xz: 'CL_TYPE_XZ',
  lzma: 'CL_TYPE_7Z',
  zstd: 'CL_TYPE_ZSTD',
  lzip: 'CL_TYPE_BINARY_DATA',
  lzop: 'CL_TYPE_BINARY_DATA', // ClamAV has no lzop reader
  szdd: 'CL_TYPE_MSSZDD',
  zip: 'CL_TYPE_ZIP',
  tar: 'CL_TYPE_POSIX_TAR',
  cpio: 'CL_TYPE_CPIO_NEWC',
  '7z': 'CL_TYPE_7Z',
  rar: 'CL_TYPE_RAR',
  cab: 'CL_TYPE_MSCAB',
  arj: 'CL_TYPE_ARJ',
  lzh: 'CL_TYPE_LHA_LZH',
  alz: 'CL_TYPE_ALZ',
  iso9660: 'CL_TYPE_ISO9660',
  ar: 'CL_TYPE_AR',
  chm: 'CL_TYPE_MSCHM',
  sis: 'CL_TYPE_SIS',
  ole2: 'CL_TYPE_MSOLE2',
  onenote: 'CL_TYPE_ONENOTE',
  pdf: 'CL_TYPE_PDF',
  rtf: 'CL_TYPE_RTF',
  html: 'CL_TYPE_HTML',
  mail: 'CL_TYPE_MAIL',
  mbox: 'CL_TYPE_MAIL',
  tnef: 'CL_TYPE_TNEF',
  binhex: 'CL_TYPE_BINHEX',
  swf: 'CL_TYPE_SWF',
  uuencode: 'CL_TYPE_UUENCODED',
  yenc: 'CL_TYPE_TEXT_ASCII',
  graphics: 'CL_TYPE_GRAPHICS',
  text: 'CL_TYPE_TEXT_ASCII',
  unknown: 'CL_TYPE_BINARY_DATA',
}

export function clTypeOf (type: FileType): string { return names[type] }

export function isClTypeName (name: string): boolean { return /^CL_TYPE_[A-Z0-9_]+$/.test(name) }
