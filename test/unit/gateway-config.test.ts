// gateway.yaml: defaults, ${VAR} substitution, and one clear error naming the key for each kind of mistake.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseConfig, ConfigFileError, loadConfigFile } from '../../core/config.ts';

const KNOWN = ['core', 'users', 'queue'];
const parse = (text: string, env: NodeJS.ProcessEnv = {}) => parseConfig(text, '/etc/gw/gateway.yaml', KNOWN, env);

function failsWith(text: string, key: RegExp, env: NodeJS.ProcessEnv = {}) {
  assert.throws(
    () => parse(text, env),
    (e: unknown) => e instanceof ConfigFileError && key.test(e.message),
  );
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

test('an unknown key at any depth stops start-up, named in full', () => {
  const ok = 'ami: {username: gw, secret: s}\n';
  const once = (text: string, line: string) =>
    assert.throws(
      () => parse(text),
      (e: unknown) => e instanceof ConfigFileError && e.message === line,
      line,
    );
  once(`${ok}http: {ssl: true}\n`, 'gateway.yaml: http.ssl: unknown key');
  once(`${ok}http: {tls: {cert_file: a, key_file: b, ca_file: c}}\n`, 'gateway.yaml: http.tls.ca_file: unknown key');
  once('ami: {hots: 127.0.0.1, username: gw, secret: s}\n', 'gateway.yaml: ami.hots: unknown key');
  once(`${ok}auth: {bootstrap_admin: {username: a, password: b, email: c}}\n`, 'gateway.yaml: auth.bootstrap_admin.email: unknown key');
  once(`${ok}asterisk: {config_dir: /etc/asterisk, module_dir: /usr/lib}\n`, 'gateway.yaml: asterisk.module_dir: unknown key');
  once(`${ok}backups: {retension: 5}\n`, 'gateway.yaml: backups.retension: unknown key');
  // a key with no value is still a key
  once(`${ok}http:\n  ssl:\n`, 'gateway.yaml: http.ssl: unknown key');
  // the typo is named rather than what it leaves missing
  once('ami: {username: gw, secrett: s}\n', 'gateway.yaml: ami.secrett: unknown key');
  // a key whose ${VAR} is unset is reported as such, even where it is unknown
  failsWith(`${ok}http: {ssl: "\${TLS}"}\n`, /http\.ssl: environment variable TLS is not set/);
});

test('values: digits from ${VAR}, numbers as strings, ranges, line breaks', () => {
  const c = parse('ami: {username: gw, secret: 1234, port: "${AMI_PORT}"}\nhttp: {port: "8082", host: ""}\nplugins: [core, core]\n', {
    AMI_PORT: '5039',
  });
  assert.equal(c.ami.secret, '1234');
  assert.equal(c.ami.port, 5039);
  assert.equal(c.http.port, 8082);
  assert.equal(c.http.host, '127.0.0.1', "'' takes the default");
  assert.deepEqual(c.plugins, ['core'], 'listed once');
  const ok = 'ami: {username: gw, secret: s}\n';
  failsWith(`${ok}http: {port: 1.5}\n`, /^gateway\.yaml: http\.port: must be an integer from 0 to 65535$/);
  failsWith(`${ok}backups: {retention: 0}\n`, /^gateway\.yaml: backups\.retention: must be an integer from 1 to 100000$/);
  failsWith(`${ok}auth: {token_ttl_s: -1}\n`, /^gateway\.yaml: auth\.token_ttl_s: must be an integer from 1/);
  failsWith(
    'ami: {username: gw, secret: "a\\r\\nAction: Logoff"}\n',
    /^gateway\.yaml: ami\.secret: must not contain CR, LF or NUL characters$/,
  );
  failsWith('ami: {username: [gw], secret: s}\n', /^gateway\.yaml: ami\.username: must be a string$/);
  failsWith(`${ok}http: [1]\n`, /^gateway\.yaml: http: must be a mapping$/);
  failsWith(`${ok}plugins: [core, 5]\n`, /^gateway\.yaml: plugins\[1\]: must be a plugin name$/);
  failsWith('[1, 2]\n', /^gateway\.yaml: \(file\): must be a YAML mapping$/);
});

test('the gateway.yaml shipped in the repository passes its schema', () => {
  const file = fileURLToPath(new URL('../../gateway.yaml', import.meta.url));
  const all = ['core', 'users', 'queue', 'park', 'agents', 'dialplan', 'pjsip', 'chat'];
  const c = parseConfig(readFileSync(file, 'utf8'), file, all, { AMI_SECRET: 'a', GATEWAY_ADMIN_PASSWORD: 'b' });
  assert.deepEqual(c.plugins, all);
  assert.deepEqual(c.auth.bootstrap_admin, { username: 'admin', password: 'b' });
});

test('an unreadable file is one clear error', () => {
  assert.throws(() => loadConfigFile('/nonexistent/gateway.yaml', KNOWN), /cannot read \/nonexistent\/gateway\.yaml: ENOENT/);
});
