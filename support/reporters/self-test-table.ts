import type { FullResult, Reporter, TestCase, TestResult } from '@playwright/test/reporter';

interface Row {
  fault: string;
  expected: string[];
  observed: string[];
  requests: number;
  status: TestResult['status'];
}

/** Prints the self-test's table: each fault, the checks expected to catch it, and the verdict. */
export default class SelfTestTableReporter implements Reporter {
  private readonly rows: Row[] = [];

  onTestEnd(_test: TestCase, result: TestResult): void {
    const note = result.annotations.find(a => a.type === 'self-test');
    if (!note?.description) return;
    const data = JSON.parse(note.description) as Omit<Row, 'status'>;
    this.rows.push({ ...data, status: result.status });
  }

  onEnd(_result: FullResult): void {
    if (this.rows.length === 0) return;
    this.rows.sort((a, b) => Number(a.fault.startsWith('(')) - Number(b.fault.startsWith('(')) || a.fault.localeCompare(b.fault));
    const header = ['fault', 'expected failing checks', 'verdict'];
    const body = this.rows.map(row => {
      const caught = row.status === 'passed';
      const verdict = row.expected.length === 0
        ? caught ? `no alarm (${row.requests} requests)` : `FALSE ALARM: ${row.observed.join(', ')}`
        : caught ? 'caught' : row.observed.length === 0 ? 'MISSED' : `WRONG CHECKS: ${row.observed.join(', ')}`;
      return [row.fault, row.expected.join(', ') || '—', verdict];
    });
    const widths = header.map((h, i) => Math.min(60, Math.max(h.length, ...body.map(r => r[i].length))));
    const line = (cells: string[]) => cells.map((cell, i) => (i < cells.length - 1 ? cell.padEnd(widths[i]) : cell)).join('  ');
    const out = ['', line(header), widths.map(w => '-'.repeat(w)).join('  '), ...body.map(line)];
    const bad = body.filter(r => /MISSED|WRONG|FALSE/.test(r[2])).length;
    out.push('', bad === 0 ? `Self-test: all ${this.rows.length - 2} faults caught by their own checks; the faultless sandbox raised no alarm.` : `Self-test: ${bad} row(s) wrong — see above.`);
    process.stdout.write(`${out.join('\n')}\n`);
  }

  printsToStdio(): boolean {
    return false;
  }
}
