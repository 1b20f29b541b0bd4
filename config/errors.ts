/// The one error configuration loading throws. config/ imports nothing from src/, so it has its own
/// class; `code` matches src/errors.ts's CONFIG_INVALID so callers test one code for both (some
/// problems only show when the parts start, e.g. an ICAP service path a cluster instance names).
export class ConfigError extends Error {
  readonly code = 'CONFIG_INVALID'
  constructor (message: string) {
    super(message)
    this.name = 'ConfigError'
  }
}

export function isConfigError (err: unknown): err is ConfigError {
  return err instanceof ConfigError
}
