/// Notification templates: plain text with `{{name}}` fields (rule, action, sender, recipients,
/// subject, where, node, time). The content filter renders them; the milter adapter sends them
/// through the MTA (its SMTP notifier) and the ICAP adapter only logs them. Unknown fields render
/// empty; values are inserted as text, never re-read as template syntax.

export interface Template { readonly subject: string, readonly body: string }

export const defaultTemplates: Readonly<Record<string, Template>> = {
  block: { subject: 'Message blocked: {{rule}}', body: 'Your message "{{subject}}" to {{recipients}} was refused by the content policy (rule {{rule}}, found in {{where}}).\n' },
  quarantine: { subject: 'Message held: {{rule}}', body: 'The message "{{subject}}" from {{sender}} to {{recipients}} is held in quarantine (rule {{rule}}, found in {{where}}). An administrator can release it.\n' },
  delete: { subject: 'Message deleted: {{rule}}', body: 'The message "{{subject}}" from {{sender}} to {{recipients}} was deleted (rule {{rule}}, found in {{where}}).\n' },
  archive: { subject: 'Message archived: {{rule}}', body: 'A copy of the message "{{subject}}" from {{sender}} to {{recipients}} was archived (rule {{rule}}).\n' },
  log: { subject: 'Content rule hit: {{rule}}', body: 'The message "{{subject}}" from {{sender}} to {{recipients}} matched rule {{rule}} in {{where}}.\n' },
}

export function render (text: string, fields: Readonly<Record<string, string>>): string {
  return text.replace(/\{\{\s*([a-z]+)\s*\}\}/g, (_, name: string) => (Object.hasOwn(fields, name) ? fields[name] ?? '' : ''))
}

export function renderTemplate (t: Template, fields: Readonly<Record<string, string>>): Template {
  // A subject is one line: a newline in a field must not start a header.
  return { subject: render(t.subject, fields).replace(/[\r\n]+/g, ' '), body: render(t.body, fields) }
}
