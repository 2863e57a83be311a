import { kChecks, type CheckId, type Violation } from './checks';
import { redact } from './redact';

/**
 * Renders a check's violations for a partner reading a CI log: the failure's title and clause, then
 * per violation the request (by key role, never the key), Expected / Received, details and a hint.
 */
export function formatViolations(check: CheckId, violations: Violation[], limit = 10): string {
  const spec = kChecks[check];
  const lines = [`${spec.failure}  (${spec.clause})${violations.length > 1 ? `  — ${violations.length} violations` : ''}`];
  for (const violation of violations.slice(0, limit)) {
    lines.push('');
    const ex = violation.exchange;
    if (ex) {
      const keyHeader = ex.request.headers.filter(([name]) => name.toLowerCase() === 'x-api-key').map(([name, value]) => `${name} = ${value.replace(/^‹|›$/g, '')}`);
      lines.push(`  ${ex.request.method} ${ex.request.path}, ${keyHeader.length ? keyHeader.join(', ') : 'no x-api-key header'}${ex.request.transport === 'raw' ? ' (fresh connection)' : ''}`);
    }
    lines.push(`  ${violation.summary}`);
    if (violation.expected) lines.push(`  Expected: ${violation.expected}`);
    if (violation.received) lines.push(`  Received: ${violation.received}`);
    for (const detail of violation.details ?? []) lines.push(`    ${detail}`);
    if (violation.hint) lines.push(`  Hint: ${violation.hint}`);
  }
  if (violations.length > limit) lines.push('', `  … and ${violations.length - limit} more`);
  return redact(lines.join('\n'));
}
