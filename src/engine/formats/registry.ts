/// FormatHandler registry: one handler per container or encoding, chosen by detected type.
/// Adding a format is adding one file and one line here. Each handler's module is imported on first
/// use, so a worker holds only the formats its traffic contains: importing all of them up front cost
/// every worker about 2 MiB of heap and 150-200 ms of start-up (7-Zip's glue, cfb, the xz, zstd and
/// bzip2 decoders), whether or not it ever met such a file.
import type { ByteSource } from '../source.js'
import type { ScanBudget } from '../budget.js'
import type { FileType } from '../filetype.js'
import type { SevenZipBackend } from './sevenzip.js'

/// One extracted child: its name within the parent and its bytes. `release` frees what the child
/// holds outside memory (a spooled temp file); the walk calls it once the child is scanned.
export interface Layer {
  readonly name: string
  readonly source: ByteSource
  readonly release?: () => void
}

/// What a handler may use beyond its input and the budget: the engine's own decoders with state
/// (one per Engine, never per process).
export interface HandlerEnv {
  readonly sevenZip: SevenZipBackend
}

export interface FormatHandler {
  readonly type: FileType
  /// Yields children; must account every produced byte with budget.consume() as it goes and stop
  /// when that returns false. Damage it reads past is reported (Heuristics.Broken.<Format>, with
  /// what was wrong); an exception ends the iteration and the walk reports it the same way.
  extract (source: ByteSource, budget: ScanBudget, env: HandlerEnv): AsyncIterable<Layer>
}

type Load = () => Promise<FormatHandler>

/// Type, the name it has in Heuristics.Broken.<Format> (as the handlers' own reports spell it), loader.
const loaders: ReadonlyArray<readonly [FileType, string, Load]> = [
  ['gzip', 'GZip', async () => (await import('./gzip.js')).gzipHandler],
  ['zlib', 'Zlib', async () => (await import('./zlib.js')).zlibHandler],
  ['bzip2', 'BZip2', async () => (await import('./bzip2.js')).bzip2Handler],
  ['xz', 'XZ', async () => (await import('./xz.js')).xzHandler],
  ['lzma', 'LZMA', async () => (await import('./lzma.js')).lzmaHandler],
  ['zstd', 'Zstd', async () => (await import('./zstd.js')).zstdHandler],
  ['lzip', 'LZIP', async () => (await import('./lzip.js')).lzipHandler],
  ['lzop', 'LZO', async () => (await import('./lzop.js')).lzopHandler],
  ['szdd', 'SZDD', async () => (await import('./szdd.js')).szddHandler],
  ['zip', 'Zip', async () => (await import('./zip.js')).zipHandler],
  ['tar', 'Tar', async () => (await import('./tar.js')).tarHandler],
  ['cpio', 'Cpio', async () => (await import('./cpio.js')).cpioHandler],
  ['7z', '7Zip', async () => (await import('./sevenz.js')).sevenzHandler],
  ['rar', 'RAR', async () => (await import('./rar.js')).rarHandler],
  ['cab', 'CAB', async () => (await import('./cab.js')).cabHandler],
  ['arj', 'ARJ', async () => (await import('./arj.js')).arjHandler],
  ['lzh', 'LZH', async () => (await import('./lzh.js')).lzhHandler],
  ['iso9660', 'ISO', async () => (await import('./iso9660.js')).iso9660Handler],
  ['alz', 'ALZ', async () => (await import('./alz.js')).alzHandler],
  ['ar', 'Ar', async () => (await import('./ar.js')).arHandler],
  ['chm', 'CHM', async () => (await import('./chm.js')).chmHandler],
  ['sis', 'SIS', async () => (await import('./sis.js')).sisHandler],
  ['ole2', 'OLE2', async () => (await import('./ole2.js')).ole2Handler],
  ['pdf', 'PDF', async () => (await import('./pdf.js')).pdfHandler],
  ['rtf', 'RTF', async () => (await import('./rtf.js')).rtfHandler],
  ['html', 'HTML', async () => (await import('./html.js')).htmlHandler],
  ['mail', 'Mail', async () => (await import('./mail.js')).mailHandler],
  ['mbox', 'Mbox', async () => (await import('./mbox.js')).mboxHandler],
  ['tnef', 'TNEF', async () => (await import('./tnef.js')).tnefHandler],
  ['binhex', 'BinHex', async () => (await import('./uuencode.js')).binhexHandler],
  ['uuencode', 'UUEncode', async () => (await import('./uuencode.js')).uuencodeHandler],
  ['yenc', 'YEnc', async () => (await import('./uuencode.js')).yencHandler],
  ['onenote', 'OneNote', async () => (await import('./onenote.js')).oneNoteHandler],
  ['pe', 'PE', async () => (await import('./pe.js')).peHandler],
  ['elf', 'ELF', async () => (await import('./elf.js')).elfHandler],
]

const table: ReadonlyMap<FileType, Load> = new Map(loaders.map(([type, , load]) => [type, load]))
const labels: ReadonlyMap<FileType, string> = new Map(loaders.map(([type, label]) => [type, label]))

/// The finding name for a container of this type that could not be read to its end.
export function brokenName (type: FileType): string { return `Heuristics.Broken.${labels.get(type) ?? type}` }

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
