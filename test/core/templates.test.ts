// Playbook templates and the facts an agent declares: filled from the run's input and its succeeded steps.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { factsOf, fillTemplates, TemplateValueMissing } from '../../src/core/templates.js';
import type { StepView } from '../../src/core/types.js';

const step = (index: number, tool: string, data: unknown, status: StepView['status'] = 'completed', isError = false): StepView => ({
  index,
  tool,
  args: {},
  status,
  ...(status === 'completed' ? { result: { isError, data: data as never } } : {}),
});

describe('templates', () => {
  const scope = { input: { invoiceId: 'INV-1', amount: null }, steps: { billing: { get_invoice: { refundableAmount: 1250, currency: 'USD' } } } };

  test('a whole-string template keeps its type; `??` takes the first value; text gets JSON for non-strings', () => {
    assert.deepEqual(fillTemplates({ a: '{{input.amount ?? steps.billing.get_invoice.refundableAmount}}', b: ['{{input.invoiceId}}'] }, scope), { a: 1250, b: ['INV-1'] });
    assert.equal(fillTemplates('refund {{steps.billing.get_invoice.refundableAmount}} {{steps.billing.get_invoice.currency}}', scope), 'refund 1250 USD');
    assert.deepEqual(fillTemplates('{{steps.billing.get_invoice}}', scope), scope.steps.billing.get_invoice);
  });

  test('a value the scope does not have throws TemplateValueMissing naming the template', () => {
    assert.throws(
      () => fillTemplates('{{steps.ticketing.create_ticket.ticketId}}', scope),
      (e: unknown) => e instanceof TemplateValueMissing && e.expr === 'steps.ticketing.create_ticket.ticketId',
    );
  });

  test('facts come from succeeded steps only (the latest of each tool); a fact without a value is left out', () => {
    const steps = [
      step(0, 'billing.get_invoice', { refundableAmount: 10 }),
      step(1, 'billing.get_invoice', { refundableAmount: 20 }),
      step(2, 'billing.get_invoice', { oops: 1 }, 'completed', true),
      step(3, 'ticketing.create_ticket', null, 'failed'),
    ];
    assert.deepEqual(factsOf({ invoice: '{{steps.billing.get_invoice}}', ticket: '{{steps.ticketing.create_ticket}}', asked: '{{input.amount}}' }, { amount: 5 }, steps), {
      invoice: { refundableAmount: 20 },
      asked: 5,
    });
    assert.deepEqual(factsOf(undefined, {}, steps), {});
  });
});
