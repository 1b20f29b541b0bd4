/// FormatHandler registry: one handler per container or encoding, chosen by detected type.
/// Adding a format is adding one file and one line here. Each handler's module is imported on first
/// use, so a worker holds only the formats its traffic contains: importing all of them up front cost
/// every worker about 2 MiB of heap and 150-200 ms of start-up (7-Zip's glue, cfb, the xz, zstd and
/// bzip2 decoders), whether or not it ever met such a file.
import type { ByteSource } from '../source.js'
import type { ScanBudget } from '../budget.js'
import type { FileType } from '../filetype.js'

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

type Load = () => Promise<FormatHandler>

const loaders: ReadonlyArray<readonly [FileType, Load]> = [
  ['gzip', async () => (await import('./gzip.js')).gzipHandler],
  ['zlib', async () => (await import('./zlib.js')).zlibHandler],
  ['bzip2', async () => (await import('./bzip2.js')).bzip2Handler],
  ['xz', async () => (await import('./xz.js')).xzHandler],
  ['lzma', async () => (await import('./lzma.js')).lzmaHandler],
  ['zstd', async () => (await import('./zstd.js')).zstdHandler],
  ['lzip', async () => (await import('./lzip.js')).lzipHandler],
  ['szdd', async () => (await import('./szdd.js')).szddHandler],
  ['zip', async () => (await import('./zip.js')).zipHandler],
  ['tar', async () => (await import('./tar.js')).tarHandler],
  ['cpio', async () => (await import('./cpio.js')).cpioHandler],
  ['7z', async () => (await import('./sevenz.js')).sevenzHandler],
  ['rar', async () => (await import('./rar.js')).rarHandler],
  ['cab', async () => (await import('./cab.js')).cabHandler],
  ['arj', async () => (await import('./arj.js')).arjHandler],
  ['lzh', async () => (await import('./lzh.js')).lzhHandler],
  ['iso9660', async () => (await import('./iso9660.js')).iso9660Handler],
  ['ar', async () => (await import('./ar.js')).arHandler],
  ['chm', async () => (await import('./chm.js')).chmHandler],
  ['sis', async () => (await import('./sis.js')).sisHandler],
  ['ole2', async () => (await import('./ole2.js')).ole2Handler],
  ['pdf', async () => (await import('./pdf.js')).pdfHandler],
  ['rtf', async () => (await import('./rtf.js')).rtfHandler],
  ['html', async () => (await import('./html.js')).htmlHandler],
  ['mail', async () => (await import('./mail.js')).mailHandler],
  ['mbox', async () => (await import('./mbox.js')).mboxHandler],
  ['tnef', async () => (await import('./tnef.js')).tnefHandler],
  ['binhex', async () => (await import('./uuencode.js')).binhexHandler],
  ['uuencode', async () => (await import('./uuencode.js')).uuencodeHandler],
  ['yenc', async () => (await import('./uuencode.js')).yencHandler],
  ['pe', async () => (await import('./pe.js')).peHandler],
]

const table: ReadonlyMap<FileType, Load> = new Map(loaders)

/// The types that have a handler (for tests and listings; loads nothing).
export const handledTypes: readonly FileType[] = loaders.map(([type]) => type)

/// Whether a type has children to extract, without loading its handler.
export function hasHandler (type: FileType): boolean { return table.has(type) }

/// The handler for a type, imported on first use (the module cache keeps it); undefined when the
/// type has no children to extract.
export async function handlerFor (type: FileType): Promise<FormatHandler | undefined> {
  const load = table.get(type)
  return load === undefined ? undefined : await load()
}
