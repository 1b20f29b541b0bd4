/// The machine conditions recorded with every benchmark run: hardware, load, versions. On shared
/// machines the load average says how much the absolute numbers can be trusted.
import { execFileSync } from 'node:child_process'
import { cpus, loadavg, totalmem, release } from 'node:os'

const run = (cmd: string, args: readonly string[]): string => {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim()
  } catch {
    return '?'
  }
}

export const load = (): string => loadavg().map(n => n.toFixed(2)).join(' ')

export function machineConditions (repo: string): Record<string, string> {
  const dirty = run('git', ['-C', repo, 'status', '--porcelain', '--untracked-files=no']) === '' ? '' : ' (+ uncommitted changes)'
  return {
    CPUs: `${cpus().length} × ${cpus()[0]?.model ?? '?'} (shared with other sessions)`,
    memory: `${(totalmem() / 2 ** 30).toFixed(1)} GiB`,
    kernel: release(),
    node: process.version,
    // dpkg-query's own ${Field} syntax, not a JS template.
    // eslint-disable-next-line no-template-curly-in-string
    packages: run('dpkg-query', ['-W', '-f=${Package} ${Version}, ', 'c-icap', 'libc-icap-mod-virus-scan', 'clamav-daemon']).replace(/,\s*$/, ''),
    'scanwall commit': `${run('git', ['-C', repo, 'rev-parse', '--short', 'HEAD'])}${dirty}`,
    'load average at start (1/5/15 min)': load(),
  }
}
