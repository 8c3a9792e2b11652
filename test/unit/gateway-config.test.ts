// gateway.yaml: defaults, ${VAR} substitution, and one clear error naming the key for each kind of mistake.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig, ConfigFileError, loadConfigFile } from '../../core/config.ts';

const KNOWN = ['core', 'users', 'queue'];
const parse = (text: string, env: NodeJS.ProcessEnv = {}) => parseConfig(text, '/etc/gw/gateway.yaml', KNOWN, env);

function failsWith(text: string, key: RegExp, env: NodeJS.ProcessEnv = {}) {
  assert.throws(() => parse(text, env), (e: unknown) => e instanceof ConfigFileError && key.test(e.message));
}

test('defaults are filled in', () => {
  const c = parse('ami: {username: gw, secret: s}\n');
  assert.equal(c.http.host, '127.0.0.1');
  assert.equal(c.http.port, 8081);
  assert.equal(c.ami.port, 5038);
  assert.equal(c.asterisk.config_dir, '/etc/asterisk');
  assert.equal(c.data_dir, '/etc/gw/data', 'relative paths are relative to the file');
  assert.equal(c.auth.token_ttl_s, 3600);
  assert.equal(c.auth.bootstrap_admin, null);
  assert.deepEqual(c.plugins, []);
});

test('${VAR} comes from the environment', () => {
  const c = parse('ami: {username: gw, secret: "${AMI_SECRET}"}\nauth: {bootstrap_admin: {username: admin, password: "${PW}"}}\n', {
    AMI_SECRET: 'from-env',
    PW: 'pw',
  });
  assert.equal(c.ami.secret, 'from-env');
  assert.equal(c.auth.bootstrap_admin?.password, 'pw');
  failsWith('ami: {username: gw, secret: "${NOPE}"}\n', /ami\.secret: environment variable NOPE is not set/);
});

test('each mistake names its key', () => {
  failsWith('ami: {username: gw}\n', /^gateway\.yaml: ami\.secret: is required/);
  failsWith('ami: {secret: s}\n', /ami\.username: is required/);
  failsWith('ami: {username: gw, secret: s}\nhttp: {port: "eighty"}\n', /http\.port: must be an integer/);
  failsWith('ami: {username: gw, secret: s}\nhttp: {port: 70000}\n', /http\.port: must be an integer from 0 to 65535/);
  failsWith('ami: {username: gw, secret: s}\nplugins: [core, telepathy]\n', /plugins: unknown plugin "telepathy"/);
  failsWith('ami: {username: gw, secret: s}\nplugins: core\n', /plugins: must be a list/);
  failsWith('ami: {username: gw, secret: s}\nhttpp: {}\n', /httpp: unknown key/);
  failsWith('ami: [1, 2]\n', /ami: must be a mapping/);
  failsWith('ami: {username: gw, secret: s}\nauth: {bootstrap_admin: {username: a}}\n', /auth\.bootstrap_admin: needs both/);
  failsWith('ami: {username: gw, secret: s\n', /\(file\): not valid YAML/);
});

test('an unreadable file is one clear error', () => {
  assert.throws(() => loadConfigFile('/nonexistent/gateway.yaml', KNOWN), /cannot read \/nonexistent\/gateway\.yaml: ENOENT/);
});
