/// SCAN, CONTSCAN, MULTISCAN and ALLMATCHSCAN on local paths, as clamd answers them: the path
/// checked (absolute, resolved through symlinks, under one of the allowed directories, else
/// `Access denied. ERROR`), a directory walked depth-first in directory order without following
/// symlinks (clamd's FollowDirectorySymlinks/FollowFileSymlinks default), one line per hit, and
/// `<path>: OK` only when nothing was reported. SCAN and ALLMATCHSCAN stop at the first infected
/// file; CONTSCAN goes on; MULTISCAN scans files in parallel and reports in completion order.
import { lstat, readdir, realpath } from 'node:fs/promises'
import { isAbsolute, join, resolve, sep } from 'node:path'
import { resultLines, type ScanReply } from './replies.js'

export type PathCommand = 'SCAN' | 'CONTSCAN' | 'MULTISCAN' | 'ALLMATCHSCAN'

export interface LocalScanOptions {
  /// Resolved (realpath) allowed directories; a path must resolve to one of them or below.
  readonly roots: readonly string[]
  /// Files MULTISCAN scans at once.
  readonly concurrency: number
}

export type ScanOne = (file: string, allMatch: boolean) => Promise<ScanReply>

/// strerror() texts of the errors a path check meets, as clamd prints them.
const strerror: Record<string, string> = {
  ENOENT: 'No such file or directory',
  ENOTDIR: 'Not a directory',
  EACCES: 'Permission denied',
  ELOOP: 'Too many levels of symbolic links',
  ENAMETOOLONG: 'File name too long',
}

const describe = (err: unknown): string => {
  const code = (err as { code?: unknown }).code
  return typeof code === 'string' ? strerror[code] ?? code : 'Unknown error'
}

/// clamd names a directory without its trailing slashes.
const displayName = (path: string): string => path.length > 1 ? path.replace(/\/+$/, '') || '/' : path

export function isUnder (path: string, roots: readonly string[]): boolean {
  return roots.some(root => path === root || path.startsWith(root.endsWith(sep) ? root : root + sep))
}

/// The lines answering one path command (each without its terminator).
export async function scanLocalPath (command: PathCommand, path: string, options: LocalScanOptions, scanOne: ScanOne, signal: AbortSignal): Promise<string[]> {
  const name = displayName(path)
  if (!isAbsolute(path)) return [`${name}: Access denied. ERROR`]
  let real: string
  try {
    real = await realpath(path)
  } catch (err) {
    // A missing path is only reported as such inside the allowed directories: outside them nothing
    // about the file system is told.
    if (!isUnder(resolve(path), options.roots)) return [`${name}: Access denied. ERROR`]
    return [`${name}: File path check failure: ${describe(err)}. ERROR`]
  }
  if (!isUnder(real, options.roots)) return [`${name}: Access denied. ERROR`]
  const files = walk(name)
  const allMatch = command === 'ALLMATCHSCAN'
  const stopAtFirst = command === 'SCAN' || command === 'ALLMATCHSCAN'
  const lines: string[] = []
  const one = async (file: string): Promise<boolean> => {
    const reply = await scanOne(file, allMatch)
    if (reply.kind !== 'ok') lines.push(...resultLines(file, reply))
    return reply.kind === 'found'
  }
  if (command === 'MULTISCAN') {
    await parallel(files, options.concurrency, one, signal)
  } else {
    for await (const file of files) {
      if (signal.aborted) break
      if (await one(file) && stopAtFirst) break
    }
  }
  return lines.length === 0 ? [`${name}: OK`] : lines
}

/// Regular files at and below `path`, depth-first in directory order; symlinks below the top are
/// skipped, and unreadable directories too (clamd logs them and goes on).
async function * walk (path: string, top = true): AsyncGenerator<string> {
  const info = top ? await lstat(path).catch(() => undefined) : undefined
  if (top && info !== undefined && !info.isDirectory()) {
    yield path
    return
  }
  const entries = await readdir(path, { withFileTypes: true }).catch(() => [])
  for (const entry of entries) {
    const child = path === '/' ? `/${entry.name}` : join(path, entry.name)
    if (entry.isDirectory()) yield * walk(child, false)
    else if (entry.isFile()) yield child
  }
}

async function parallel (files: AsyncGenerator<string>, width: number, one: (file: string) => Promise<boolean>, signal: AbortSignal): Promise<void> {
  const lane = async (): Promise<void> => {
    for (;;) {
      if (signal.aborted) return
      const next = await files.next()
      if (next.done === true) return
      await one(next.value)
    }
  }
  await Promise.all(Array.from({ length: Math.max(1, width) }, lane))
}
