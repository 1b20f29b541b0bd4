/// FormatHandler registry: one handler per container or encoding, chosen by detected type.
/// Adding a format is adding one file and one line here.
import type { ByteSource } from '../source.js'
import type { ScanBudget } from '../budget.js'
import type { FileType } from '../filetype.js'
import { gzipHandler } from './gzip.js'
import { zlibHandler } from './zlib.js'
import { bzip2Handler } from './bzip2.js'
import { xzHandler } from './xz.js'
import { lzmaHandler } from './lzma.js'
import { zstdHandler } from './zstd.js'
import { lzipHandler } from './lzip.js'
import { szddHandler } from './szdd.js'
import { zipHandler } from './zip.js'
import { tarHandler } from './tar.js'
import { cpioHandler } from './cpio.js'
import { sevenzHandler } from './sevenz.js'
import { rarHandler } from './rar.js'
import { cabHandler } from './cab.js'
import { arjHandler } from './arj.js'
import { lzhHandler } from './lzh.js'
import { iso9660Handler } from './iso9660.js'
import { arHandler } from './ar.js'
import { chmHandler } from './chm.js'
import { ole2Handler } from './ole2.js'
import { pdfHandler } from './pdf.js'
import { rtfHandler } from './rtf.js'
import { htmlHandler } from './html.js'
import { mailHandler } from './mail.js'
import { mboxHandler } from './mbox.js'
import { tnefHandler } from './tnef.js'
import { sisHandler } from './sis.js'
import { peHandler } from './pe.js'
import { binhexHandler, uuencodeHandler, yencHandler } from './uuencode.js'

/// One extracted child: its name within the parent and its bytes. `release` frees what the child
/// holds outside memory (a spooled temp file); the walk calls it once the child is scanned.
export interface Layer {
  readonly name: string
  readonly source: ByteSource
  readonly release?: () => void
}

export interface FormatHandler {
  readonly type: FileType
  /// Yields children; must account every produced byte with budget.consume() as it goes and stop
  /// when that returns false. A broken container ends the iteration (the walk records it).
  extract (source: ByteSource, budget: ScanBudget): AsyncIterable<Layer>
}

const all: readonly FormatHandler[] = [
  gzipHandler, zlibHandler, bzip2Handler, xzHandler, lzmaHandler, zstdHandler, lzipHandler, szddHandler,
  zipHandler, tarHandler, cpioHandler, sevenzHandler, rarHandler, cabHandler, arjHandler, lzhHandler,
  iso9660Handler, arHandler, chmHandler, sisHandler,
  ole2Handler, pdfHandler, rtfHandler, htmlHandler, mailHandler, mboxHandler, tnefHandler,
  binhexHandler, uuencodeHandler, yencHandler, peHandler,
]

export const handlers: ReadonlyMap<FileType, FormatHandler> = new Map(all.map(h => [h.type, h]))
