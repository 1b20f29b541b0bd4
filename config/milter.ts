/// Formats of the milter section: SMTP reply templates (a 4xx or 5xx code, an enhanced status code
/// and text) and busy-hour windows (`HH:MM-HH:MM`, local time, a window may pass midnight).

/// `550 5.7.1 text`: the code class must be the one the key is for (reject 5, tempfail 4).
export function smtpReply (codeClass: '4' | '5'): (value: unknown) => void {
  return value => {
    if (typeof value !== 'string' || !new RegExp(`^${codeClass}\\d\\d ${codeClass}\\.\\d{1,3}\\.\\d{1,3} \\S`).test(value)) {
      throw new Error(`must be an SMTP reply "${codeClass}xx ${codeClass}.x.x text"`)
    }
  }
}

const window = /^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-4]):([0-5]\d)$/

export function busyWindows (value: unknown): void {
  if (!Array.isArray(value) || !value.every(w => typeof w === 'string' && window.test(w))) throw new Error('must be an array of "HH:MM-HH:MM" windows')
}
