import type { Reporter, TestCase, TestError, TestResult, TestStep } from '@playwright/test/reporter';

import { redact } from '../redact';

/**
 * Runs first. Playwright records each of its own API calls as a step, and when one fails (a timeout,
 * a refused connection) the step's error carries Playwright's call log, which lists the request's
 * headers, x-api-key included. This reporter redacts those errors, and the console output and
 * attachments of each test, before the HTML, JUnit and Allure reporters read them: reporters share
 * these objects. The leak-check reporter, last, verifies that nothing got through.
 */
export default class RedactReporter implements Reporter {
  onStepEnd(_test: TestCase, _result: TestResult, step: TestStep): void {
    if (step.error) redactError(step.error);
  }

  onTestEnd(_test: TestCase, result: TestResult): void {
    for (const error of result.errors) redactError(error);
    if (result.error) redactError(result.error);
    for (const step of result.steps) redactStep(step);
    for (const output of [result.stdout, result.stderr]) {
      for (let i = 0; i < output.length; i++) {
        const chunk = output[i];
        output[i] = typeof chunk === 'string' ? redact(chunk) : Buffer.from(redact(chunk.toString('utf8')));
      }
    }
    for (const attachment of result.attachments) {
      if (attachment.body && /^(text\/|application\/json)/.test(attachment.contentType))
        (attachment as { body?: Buffer }).body = Buffer.from(redact(attachment.body.toString('utf8')));
    }
  }

  onError(error: TestError): void {
    redactError(error);
  }

  printsToStdio(): boolean {
    return false;
  }
}

function redactStep(step: TestStep): void {
  if (step.error) redactError(step.error);
  for (const child of step.steps) redactStep(child);
}

function redactError(error: TestError): void {
  const writable = error as { message?: string; stack?: string; value?: string; snippet?: string };
  for (const field of ['message', 'stack', 'value', 'snippet'] as const) {
    const text = writable[field];
    if (text !== undefined) writable[field] = redact(text);
  }
  if (error.cause) redactError(error.cause);
}
