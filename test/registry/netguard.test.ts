// Network rules for HTTP MCP servers.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { hostAllowed } from '../../src/core/hosts.js';
import { checkServerUrl, isPrivateAddress } from '../../src/registry/netguard.js';

describe('HTTP server network rules', () => {
  test('private, loopback, link-local and mapped addresses are private; public ones are not', () => {
    for (const a of ['127.0.0.1', '10.1.2.3', '172.20.0.1', '192.168.1.1', '169.254.169.254', '100.64.0.1', '::1', 'fd00::1', 'fe80::1', '::ffff:127.0.0.1', '0.0.0.0'])
      assert.equal(isPrivateAddress(a), true, a);
    for (const a of ['93.184.216.34', '8.8.8.8', '2606:4700::1111', '::ffff:8.8.8.8']) assert.equal(isPrivateAddress(a), false, a);
  });

  test('allowlist: exact hosts and subdomains, never lookalike suffixes', () => {
    assert.ok(hostAllowed('mcp.example.com', ['example.com']));
    assert.ok(hostAllowed('EXAMPLE.com.', ['example.com']));
    assert.ok(!hostAllowed('example.com.evil.test', ['example.com']));
    assert.ok(!hostAllowed('badexample.com', ['example.com']));
    assert.ok(hostAllowed('127.0.0.1', ['127.0.0.1']));
  });

  test('a listed loopback server still needs allowPrivateNetwork; an unlisted host is refused first', async () => {
    await assert.rejects(checkServerUrl(new URL('http://127.0.0.1:3101/mcp'), { allowedHosts: ['127.0.0.1'], allowPrivateNetwork: false }), /resolves to a private address \(127\.0\.0\.1\)/);
    await checkServerUrl(new URL('http://127.0.0.1:3101/mcp'), { allowedHosts: ['127.0.0.1'], allowPrivateNetwork: true });
    await assert.rejects(checkServerUrl(new URL('http://169.254.169.254/latest'), { allowedHosts: ['example.com'], allowPrivateNetwork: false }), /not in registry\.allowedHosts/);
    await assert.rejects(checkServerUrl(new URL('http://localhost:3101/mcp'), { allowedHosts: ['localhost'], allowPrivateNetwork: false }), /private address/);
    await assert.rejects(checkServerUrl(new URL('file:///etc/passwd'), { allowedHosts: [], allowPrivateNetwork: true }), /unsupported scheme/);
  });
});
