import assert from 'node:assert/strict';
import { test } from 'node:test';
import { REDACTED, Redactor } from '../../src/audit/redact.js';

const CANARY = 'canary-7f3a9b2c4d5e6f70';
const r = new Redactor({ fields: { 'billing.issue_refund': ['reason', 'card.*'], '*': ['ssn'], create_ticket: ['body'] }, secrets: [CANARY, 'short'] });

test('configured fields are masked per tool, per any tool, and with one-segment wildcards', () => {
  const args = { invoiceId: 'INV-1', reason: 'personal story', card: { holder: 'A. Person', last4: '4242' }, ssn: '078-05-1120' };
  assert.deepEqual(r.redact(args, 'billing', 'issue_refund'), { invoiceId: 'INV-1', reason: REDACTED, card: { holder: REDACTED, last4: REDACTED }, ssn: REDACTED });
  // Another tool keeps `reason`; the `*` rule still applies; a bare tool name matches any server.
  assert.deepEqual(r.redact(args, 'crm', 'add_note'), { ...args, ssn: REDACTED });
  assert.deepEqual(r.redact({ body: 'x', title: 't' }, 'ticketing', 'create_ticket'), { body: REDACTED, title: 't' });
});

test('secrets are masked by field name, by known value anywhere in a string, and by well-known shapes', () => {
  const out = r.redact({
    apiKey: 'abc',
    nested: { Authorization: 'Bearer xyz', client_secret: 's' },
    note: `use ${CANARY} for access`,
    list: [`header Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl`, 'AKIAABCDEFGHIJKLMNOP', 'sk-proj-abcdefghijklmnopqrstuv'],
    keep: 'short is not a secret worth masking',
  }) as Record<string, unknown>;
  const text = JSON.stringify(out);
  for (const leaked of [CANARY, 'xyz', 'eyJhbGciOiJIUzI1NiJ9', 'AKIAABCDEFGHIJKLMNOP', 'sk-proj-abcdefghijklmnopqrstuv']) assert.ok(!text.includes(leaked), leaked);
  assert.equal(out.apiKey, REDACTED);
  assert.equal(out.keep, 'short is not a secret worth masking', 'values under 6 characters are not treated as secrets');
});

test('card-like numbers are masked when they pass the Luhn check, in text and as numbers; other digits stay', () => {
  const out = r.redact({ text: 'card 4111 1111 1111 1111 and 5500-0000-0000-0004, order 1234567890123', n: 4111111111111111, amount: 1250, phone: '+1 415 555 0100' }) as Record<string, unknown>;
  assert.equal(out.text, 'card [REDACTED card] and [REDACTED card], order 1234567890123');
  assert.equal(out.n, '[REDACTED card]');
  assert.equal(out.amount, 1250);
  assert.equal(out.phone, '+1 415 555 0100');
});
