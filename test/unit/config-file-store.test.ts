// ConfigFileStore: path refusals, ETags, backups, atomic writes, and 50 concurrent writers on one file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ConfigError, ConfigFileStore, etagOf, parseBackupName, parseConfig } from '../../config-store/index.ts';

const EXTENSIONS = '[general]\nstatic=yes\n\n[default]\nexten => s,1,Answer() ; hi\n';

interface Bed {
  root: string;
  conf: string;
  backups: string;
  store: ConfigFileStore;
  done: () => void;
}

function bed(retention?: number): Bed {
  const root = mkdtempSync(path.join(tmpdir(), 'cfg-store-'));
  const conf = path.join(root, 'etc-asterisk');
  const backups = path.join(root, 'backups');
  mkdirSync(conf);
  writeFileSync(path.join(conf, 'extensions.conf'), EXTENSIONS);
  chmodSync(path.join(conf, 'extensions.conf'), 0o640);
  const store = new ConfigFileStore({ configDir: conf, backupDir: backups, ...(retention ? { retention } : {}) });
  return { root, conf, backups, store, done: () => rmSync(root, { recursive: true, force: true }) };
}

async function rejectsWith(p: Promise<unknown>, status: number, re?: RegExp): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof ConfigError, String(err));
    assert.equal(err.status, status, err.message);
    if (re) assert.match(err.message, re);
    return true;
  });
}

/** Every file below `dir`, relative, sorted. */
function listAll(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out.push(path.relative(dir, p));
    }
  };
  walk(dir);
  return out.sort();
}

test('resolve refuses anything but a plain file name (400)', async () => {
  const b = bed();
  try {
    const outside = path.join(b.root, 'outside.conf');
    writeFileSync(outside, '[x]\n');
    const before = listAll(b.root);
    const bad = ['../etc/passwd', '/etc/passwd', 'a/b.conf', '..', '.', '', 'a\\b.conf', 'x\0y', '.hidden', '../outside.conf', 'C:evil'];
    for (const name of bad) {
      assert.throws(
        () => b.store.resolve(name),
        (e: unknown) => e instanceof ConfigError && e.status === 400,
        JSON.stringify(name),
      );
      await rejectsWith(b.store.read(name), 400);
      await rejectsWith(
        b.store.update(name, (doc) => doc.addSection('pwn', [])),
        400,
      );
      await rejectsWith(b.store.replace(name, '[pwn]\n'), 400);
      await rejectsWith(b.store.listBackups(name), 400);
    }
    assert.equal(b.store.resolve('extensions.conf'), path.join(b.conf, 'extensions.conf'));
    assert.deepEqual(listAll(b.root), before); // nothing outside (or inside) was touched
    assert.equal(readFileSync(outside, 'utf8'), '[x]\n');
  } finally {
    b.done();
  }
});

test('a symlink that leads out of the config directory is refused', async () => {
  const b = bed();
  try {
    writeFileSync(path.join(b.root, 'secret.conf'), '[s]\npassword=x\n');
    symlinkSync(path.join(b.root, 'secret.conf'), path.join(b.conf, 'link.conf'));
    await rejectsWith(b.store.read('link.conf'), 400, /outside the config directory/);
    await rejectsWith(
      b.store.update('link.conf', (doc) => doc.setValue('s', 'password', 'y')),
      400,
    );
    assert.equal(readFileSync(path.join(b.root, 'secret.conf'), 'utf8'), '[s]\npassword=x\n');
  } finally {
    b.done();
  }
});

test('read gives text and a strong ETag; a missing file is 404', async () => {
  const b = bed();
  try {
    const r = await b.store.read('extensions.conf');
    assert.equal(r.text, EXTENSIONS);
    assert.match(r.etag, /^"[0-9a-f]{64}"$/);
    assert.equal(r.etag, etagOf(Buffer.from(EXTENSIONS)));
    await rejectsWith(b.store.read('nope.conf'), 404);
    await rejectsWith(
      b.store.update('nope.conf', () => undefined),
      404,
    );
  } finally {
    b.done();
  }
});

test('update writes a minimal change, backs up the previous bytes, keeps the mode', async () => {
  const b = bed();
  try {
    const file = path.join(b.conf, 'extensions.conf');
    const { uid, gid } = statSync(file);
    const r = await b.store.update('extensions.conf', (doc) => doc.setValue('general', 'static', 'no'));
    assert.equal(r.text, EXTENSIONS.replace('static=yes', 'static=no'));
    assert.equal(readFileSync(file, 'utf8'), r.text);
    assert.equal(r.etag, etagOf(readFileSync(file)));
    assert.ok(r.backup && parseBackupName(r.backup)?.file === 'extensions.conf', String(r.backup));
    assert.match(r.backup!, /^extensions\.conf\.\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    assert.equal(readFileSync(path.join(b.backups, r.backup!), 'utf8'), EXTENSIONS);
    const st = statSync(file);
    assert.equal(st.mode & 0o777, 0o640);
    assert.deepEqual([st.uid, st.gid], [uid, gid]);
    assert.deepEqual(readdirSync(b.conf), ['extensions.conf']); // no temp file left behind
  } finally {
    b.done();
  }
});

test('an edit that changes nothing writes nothing', async () => {
  const b = bed();
  try {
    const before = statSync(path.join(b.conf, 'extensions.conf')).mtimeMs;
    const r = await b.store.update('extensions.conf', (doc) => doc.setValue('general', 'static', 'yes'));
    assert.equal(r.backup, null);
    assert.equal(statSync(path.join(b.conf, 'extensions.conf')).mtimeMs, before);
    assert.deepEqual(await b.store.listBackups('extensions.conf'), []);
  } finally {
    b.done();
  }
});

test('a failing edit writes nothing and its error comes through', async () => {
  const b = bed();
  try {
    await rejectsWith(
      b.store.update('extensions.conf', (doc) => doc.setValue('missing', 'a', 'b')),
      404,
    );
    await rejectsWith(
      b.store.update('extensions.conf', async (doc) => {
        doc.setValue('general', 'static', 'no'); // changed in memory, then refused: must not land
        doc.addSection('general', []);
      }),
      409,
    );
    assert.equal(readFileSync(path.join(b.conf, 'extensions.conf'), 'utf8'), EXTENSIONS);
    assert.equal(existsDir(b.backups) ? readdirSync(b.backups).length : 0, 0);
  } finally {
    b.done();
  }
});

test('update refuses a result Asterisk would reject when the file on disk was fine', async () => {
  const b = bed();
  try {
    // A hand-built line that is not an entry cannot come from the edit API; simulate a buggy plugin.
    await rejectsWith(
      b.store.update('extensions.conf', (doc) => doc.replaceRange(doc.lines.length, doc.lines.length, [{ raw: '[unclosed', eol: '\n' }])),
      400,
      /line 6: section header has no closing/,
    );
    assert.equal(readFileSync(path.join(b.conf, 'extensions.conf'), 'utf8'), EXTENSIONS);
  } finally {
    b.done();
  }
});

function existsDir(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

test('If-Match: a stale ETag is 412 and nothing is written; the current one or * passes', async () => {
  const b = bed();
  try {
    const { etag } = await b.store.read('extensions.conf');
    const r1 = await b.store.update('extensions.conf', (doc) => doc.setValue('general', 'static', 'no'), { ifMatch: etag });
    await rejectsWith(
      b.store.update('extensions.conf', (doc) => doc.setValue('general', 'static', 'maybe'), { ifMatch: etag }),
      412,
    );
    await rejectsWith(b.store.replace('extensions.conf', '[x]\n', { ifMatch: `W/${r1.etag}` }), 412);
    assert.equal(readFileSync(path.join(b.conf, 'extensions.conf'), 'utf8'), r1.text);
    await b.store.update('extensions.conf', (doc) => doc.setValue('general', 'static', 'yes'), { ifMatch: `"nope", ${r1.etag}` });
    await b.store.update('extensions.conf', (doc) => doc.setValue('general', 'static', 'no'), { ifMatch: '*' });
    await rejectsWith(b.store.replace('new.conf', '[x]\n', { ifMatch: '*' }), 412);
  } finally {
    b.done();
  }
});

test('replace validates first (400 naming the line), then writes with a backup', async () => {
  const b = bed();
  try {
    await rejectsWith(b.store.replace('extensions.conf', '[ok]\nx=1\n[broken\n'), 400, /extensions\.conf line 3/);
    await rejectsWith(b.store.replace('extensions.conf', 'x=1\n[a]\n'), 400, /line 1: variable line before any/);
    await rejectsWith(b.store.replace('extensions.conf', '[a]\n;-- open\n'), 400, /line 2: block comment/);
    assert.equal(readFileSync(path.join(b.conf, 'extensions.conf'), 'utf8'), EXTENSIONS);
    const r = await b.store.replace('extensions.conf', '[new]\r\nx = 1\r\n');
    assert.equal(readFileSync(path.join(b.conf, 'extensions.conf'), 'utf8'), '[new]\r\nx = 1\r\n');
    assert.equal((await b.store.readBackup(r.backup!)).text, EXTENSIONS);
    const created = await b.store.replace('fresh.conf', '[a]\n');
    assert.equal(created.backup, null);
    assert.equal(statSync(path.join(b.conf, 'fresh.conf')).mode & 0o777, 0o640);
  } finally {
    b.done();
  }
});

test('Latin-1 files keep their bytes; characters Latin-1 cannot hold are refused', async () => {
  const b = bed();
  try {
    const bytes = Buffer.from('[general]\nsubject = Message de ${MVM_CALLERID} \u00e0 ${MVM_DATE}\n', 'latin1');
    writeFileSync(path.join(b.conf, 'minivm.conf'), bytes);
    const r = await b.store.update('minivm.conf', (doc) => doc.setValue('general', 'from', 'Bo\u00eete vocale'));
    assert.ok(
      readFileSync(path.join(b.conf, 'minivm.conf')).equals(Buffer.concat([bytes, Buffer.from('from = Bo\u00eete vocale\n', 'latin1')])),
    );
    await rejectsWith(
      b.store.update('minivm.conf', (doc) => doc.setValue('general', 'from', '\u65e5\u672c')),
      400,
      /Latin-1/,
    );
    await b.store.replace('minivm.conf', r.text); // a GET-then-PUT round trip changes no byte
    assert.equal(readFileSync(path.join(b.conf, 'minivm.conf')).toString('latin1'), r.text);
  } finally {
    b.done();
  }
});

test('backups: list newest first, read, delete; bad names refused', async () => {
  const b = bed();
  try {
    const names: string[] = [];
    for (let i = 0; i < 3; i++) {
      const r = await b.store.update('extensions.conf', (doc) => doc.setValue('general', 'n', String(i)));
      names.push(r.backup!);
    }
    assert.deepEqual(await b.store.listBackups('extensions.conf'), [...names].reverse());
    assert.equal(new Set(names).size, 3);
    assert.equal((await b.store.readBackup(names[0]!)).text, EXTENSIONS);
    assert.match((await b.store.readBackup(names[2]!)).text, /n=1/);
    await b.store.deleteBackup(names[1]!);
    assert.deepEqual(await b.store.listBackups('extensions.conf'), [names[2], names[0]]);
    await rejectsWith(b.store.deleteBackup(names[1]!), 404);
    await rejectsWith(b.store.readBackup('extensions.conf.2020-01-01T00:00:00.000Z'), 404);
    await rejectsWith(b.store.deleteBackup('extensions.conf'), 400, /not a backup name/); // the live file
    for (const bad of [
      '../extensions.conf.2020-01-01T00:00:00.000Z',
      'a/b.2020-01-01T00:00:00.000Z',
      '.2020-01-01T00:00:00.000Z',
      'x.conf.yesterday',
    ]) {
      await rejectsWith(b.store.deleteBackup(bad), 400);
      await rejectsWith(b.store.readBackup(bad), 400);
    }
    // Older gateways wrote nanosecond stamps; they are recognised and ordered by time.
    writeFileSync(path.join(b.backups, 'extensions.conf.2018-05-20T19:54:00.66126645Z'), '[old]\n');
    const listed = await b.store.listBackups('extensions.conf');
    assert.equal(listed.at(-1), 'extensions.conf.2018-05-20T19:54:00.66126645Z');
    assert.equal(readFileSync(path.join(b.conf, 'extensions.conf'), 'utf8').includes('n=2'), true);
  } finally {
    b.done();
  }
});

for (const retention of [50, 7]) {
  test(`50 concurrent updates all land; every backup parses; retention ${retention} holds`, async () => {
    const b = bed(retention);
    try {
      const results = await Promise.all(
        Array.from({ length: 50 }, (_, i) =>
          b.store.update('extensions.conf', (doc) => doc.addSection(`ctx-${i}`, [{ key: 'exten', op: '=>', value: `${i},1,NoOp(${i})` }])),
        ),
      );
      const text = readFileSync(path.join(b.conf, 'extensions.conf'), 'utf8');
      const doc = parseConfig(text, 'extensions.conf', { strict: true });
      const names = new Set(doc.sections().map((s) => s.name));
      for (let i = 0; i < 50; i++) assert.ok(names.has(`ctx-${i}`), `ctx-${i} missing`);
      assert.ok(text.startsWith(EXTENSIONS));
      assert.equal(new Set(results.map((r) => r.backup)).size, 50); // unique names even within one millisecond
      const backups = await b.store.listBackups('extensions.conf');
      assert.equal(backups.length, Math.min(50, retention));
      for (const name of backups) parseConfig((await b.store.readBackup(name)).text, name, { strict: true });
      // The newest backup is the state just before the last write: one section fewer.
      const newest = parseConfig((await b.store.readBackup(backups[0]!)).text);
      assert.equal(newest.sections().length, doc.sections().length - 1);
      assert.deepEqual(readdirSync(b.conf), ['extensions.conf']);
    } finally {
      b.done();
    }
  });
}

test('constructor refuses a backup dir equal to the config dir and a bad retention', () => {
  assert.throws(() => new ConfigFileStore({ configDir: '/tmp/x', backupDir: '/tmp/x/' }));
  assert.throws(() => new ConfigFileStore({ configDir: '/tmp/x', backupDir: '/tmp/y', retention: 0 }));
});
