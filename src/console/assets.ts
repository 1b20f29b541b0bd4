/// The console's static files, read once at start and served from memory: its own script and
/// styles (assets/console/ in the package) and uPlot's (from its npm package). Nothing is fetched
/// at run time; the pages reference only these.
import { readFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

export interface Asset { readonly type: string, readonly body: Buffer }

/// The package root from dist/src/console/ (compiled) or src/console/ (source).
const root = fileURLToPath(new URL(import.meta.url.includes('/dist/') ? '../../../' : '../../', import.meta.url))

export async function loadAssets (): Promise<Map<string, Asset>> {
  const uplot = join(dirname(createRequire(import.meta.url).resolve('uplot')), '..', 'dist')
  const files: Array<[string, string, string]> = [
    ['console.js', join(root, 'assets', 'console', 'console.js'), 'text/javascript; charset=utf-8'],
    ['console.css', join(root, 'assets', 'console', 'console.css'), 'text/css; charset=utf-8'],
    ['uPlot.iife.min.js', join(uplot, 'uPlot.iife.min.js'), 'text/javascript; charset=utf-8'],
    ['uPlot.min.css', join(uplot, 'uPlot.min.css'), 'text/css; charset=utf-8'],
  ]
  const assets = new Map<string, Asset>()
  for (const [name, path, type] of files) assets.set(name, { type, body: await readFile(path) })
  return assets
}
