/// Notices changes in a directory (fs.watch, inotify on Linux) and calls back once things are quiet
/// for `debounceMs`: freshclam writes a database as a temporary file and renames it, and a burst of
/// events (several databases, a partial write then the rest) becomes one reload. A reload that fails
/// on a half-written file keeps the old DB; the write that completes it is another event.
import { watch, type FSWatcher } from 'node:fs'

export interface DirWatch { close (): void }

export function watchDir (dir: string, debounceMs: number, onQuiet: () => void, accept: (name: string) => boolean = () => true): DirWatch {
  let timer: NodeJS.Timeout | undefined
  const watcher: FSWatcher = watch(dir, { persistent: false }, (_event, name) => {
    if (name !== null && !accept(name)) return
    if (timer !== undefined) clearTimeout(timer)
    timer = setTimeout(() => { timer = undefined; onQuiet() }, debounceMs)
  })
  watcher.on('error', () => {}) // the directory went away: nothing more to notice
  return {
    close: () => {
      if (timer !== undefined) clearTimeout(timer)
      watcher.close()
    },
  }
}
