/// Where Scanwall's files are by default, apart from the schema: `scanwall scan` needs these two
/// paths and nothing else of the configuration, and importing the schema (convict and every custom
/// format) cost its start-up ~50 ms of CPU. config/schema.ts re-exports them.
import { homedir, tmpdir } from 'node:os'
import { fileURLToPath } from 'node:url'
import { join } from 'node:path'

/// The signatures bundled with the package (EICAR and friends): a node starts with them by default.
export const bundledSignaturesDir = fileURLToPath(new URL('../../signatures', import.meta.url))
/// Scanwall's own cache directory (compiled DBs, fetched updates): /var/cache/scanwall for a
/// system service (root), ~/.cache/scanwall otherwise. Never a signature directory.
export const signaturesCacheDir = process.getuid?.() === 0 ? '/var/cache/scanwall' : join(homedir() === '' ? tmpdir() : homedir(), '.cache', 'scanwall')
