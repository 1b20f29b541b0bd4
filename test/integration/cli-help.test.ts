/// Every `scanwall` command and action answers --help with its usage and options (exit 0), and an
/// unknown option names the command and prints the same usage (exit 2): through the real binary.
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { cliMain } from '../helpers/scanwall-node.js'

const scanwall = (...args: string[]) => spawnSync(process.execPath, [cliMain, ...args], { encoding: 'utf8', timeout: 20_000 })

describe('scanwall --help and unknown options (CLI)', function () {
  this.timeout(60_000)

  /// Each command as typed, and the options its usage must list.
  const commands: ReadonlyArray<readonly [string, readonly string[]]> = [
    ['start', ['--config FILE']],
    ['scan', ['--db DIR', '--lenient', '--no-summary']],
    ['node offline', ['--config FILE', '--instance NAME', '--no-wait']],
    ['node online', ['--config FILE', '--instance NAME']],
    ['cluster status', ['--config FILE', '--instance NAME', '--json']],
    ['witness', ['--listen IP:PORT', '--key-file FILE', '--lease-ms N', '--max-skew-ms N']],
    ['quarantine list', ['--config FILE', '--json']],
    ['quarantine show', ['--config FILE']],
    ['quarantine export', ['--config FILE']],
    ['quarantine release', ['--config FILE']],
    ['quarantine delete', ['--config FILE']],
    ['stats', ['--by WHAT', '--since AGE', '--config FILE', '--json', '--limit N']],
    ['events', ['--since AGE', '--config FILE', '--json', '--limit N']],
    ['user add', ['--config FILE', '--role ROLE']],
    ['user remove', ['--config FILE']],
    ['user list', ['--config FILE']],
    ['token add', ['--config FILE', '--role ROLE']],
    ['token list', ['--config FILE']],
  ]

  for (const [command, options] of commands) {
    const words = command.split(' ')

    it(`scanwall ${command} --help (and -h) prints its usage with every option, exit 0`, () => {
      const long = scanwall(...words, '--help')
      assert.equal(long.status, 0, long.stderr)
      assert.equal(long.stderr, '')
      assert.ok(long.stdout.startsWith(`usage: scanwall ${command} [options]`), long.stdout)
      for (const option of [...options, '--help']) assert.ok(long.stdout.includes(option), `${option} missing from:\n${long.stdout}`)
      const short = scanwall(...words, '-h')
      assert.equal(short.status, 0)
      assert.equal(short.stdout, long.stdout)
    })

    it(`scanwall ${command} --bogus names the command and prints its usage, exit 2`, () => {
      const r = scanwall(...words, '--bogus')
      assert.equal(r.status, 2)
      assert.equal(r.stdout, '')
      const [first, ...rest] = r.stderr.split('\n')
      assert.equal(first, `scanwall ${command}: unknown option --bogus`)
      assert.equal(rest.join('\n'), scanwall(...words, '--help').stdout)
    })
  }

  for (const group of ['node', 'cluster', 'quarantine', 'user', 'token']) {
    it(`scanwall ${group} --help lists its actions, exit 0; an unknown action is a usage error, exit 2`, () => {
      const help = scanwall(group, '--help')
      assert.equal(help.status, 0)
      const actions = commands.filter(([c]) => c.startsWith(`${group} `)).map(([c]) => c.split(' ')[1] ?? '')
      assert.ok(actions.length > 0)
      for (const action of actions) assert.match(help.stdout, new RegExp(`^  ${action} `, 'm'))
      const bad = scanwall(group, 'sideways')
      assert.equal(bad.status, 2)
      assert.equal(bad.stderr, `scanwall ${group}: unknown action 'sideways'\n${help.stdout}`)
    })
  }

  it('scanwall --help lists every command; an unknown command is a usage error, exit 2', () => {
    const help = scanwall('--help')
    assert.equal(help.status, 0)
    for (const command of new Set(commands.map(([c]) => c.split(' ')[0] ?? ''))) assert.match(help.stdout, new RegExp(`^  ${command} `, 'm'))
    const bad = scanwall('frobnicate')
    assert.equal(bad.status, 2)
    assert.equal(bad.stderr, `scanwall: unknown command 'frobnicate'\n${help.stdout}`)
  })

  it('a string option without its value and a stray argument are usage errors too', () => {
    const missing = scanwall('start', '--config')
    assert.equal(missing.status, 2)
    assert.match(missing.stderr, /^scanwall start: option '-c, --config <value>' argument missing\nusage: scanwall start /)
    const stray = scanwall('cluster', 'status', 'extra')
    assert.equal(stray.status, 2)
    assert.match(stray.stderr, /^scanwall cluster status: unexpected argument 'extra'\n/)
  })
})
