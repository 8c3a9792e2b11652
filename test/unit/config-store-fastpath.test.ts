// ConfigFileStore's fast write path: hard-linked backups (and the copy fallbacks), the lazy parse of big files, and
// the byte splice of the edited range, each checked against the plain way of doing the same thing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, linkSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ConfigFileStore, encodeConfigText, etagOf, parseConfig, type ConfigDocument } from '../../config-store/index.ts';
import { makeBackup, type BackupSource } from '../../config-store/backups.ts';
import { writeFileAtomic } from '../../config-store/atomic-write.ts';

const OLD = '[general]\nstatic=yes\n\n[default]\nexten => s,1,Answer() ; hi\n';

interface Bed {
  root: string;
  conf: string;
  backups: string;
  file: string;
  store: ConfigFileStore;
  done: () => void;
}

function bed(opts: { text?: string | Buffer; backups?: string; retention?: number } = {}): Bed {
  const root = mkdtempSync(path.join(tmpdir(), 'cfg-fast-'));
  const conf = path.join(root, 'etc-asterisk');
  const backups = opts.backups ?? path.join(root, 'backups');
  mkdirSync(conf);
  const file = path.join(conf, 'extensions.conf');
  writeFileSync(file, opts.text ?? OLD);
  const store = new ConfigFileStore({ configDir: conf, backupDir: backups, ...(opts.retention ? { retention: opts.retention } : {}) });
  return {
    root,
    conf,
    backups,
    file,
    store,
    done: () => {
      rmSync(root, { recursive: true, force: true });
      if (opts.backups) rmSync(opts.backups, { recursive: true, force: true });
    },
  };
}

function sourceOf(file: string, bytes = readFileSync(file)): BackupSource {
  const st = statSync(file);
  return { path: file, bytes, mode: st.mode, dev: st.dev, ino: st.ino, nlink: st.nlink, size: st.size, mtimeMs: st.mtimeMs };
}

// ---- backups ----

test('backup is a hard link to the old inode and keeps the OLD content after the write', async () => {
  const b = bed();
  try {
    const before = statSync(b.file);
    const r = await b.store.update('extensions.conf', (doc) => doc.setValue('general', 'static', 'no'));
    const backup = path.join(b.backups, r.backup!);
    const bst = statSync(backup);
    assert.equal(bst.ino, before.ino, 'the backup is the old inode, not a copy');
    assert.equal(bst.nlink, 1, 'the live file no longer shares it');
    assert.notEqual(statSync(b.file).ino, before.ino);
    assert.equal(readFileSync(backup, 'utf8'), OLD);
    assert.equal(readFileSync(b.file, 'utf8'), OLD.replace('static=yes', 'static=no'));
    assert.equal((await b.store.readBackup(r.backup!)).text, OLD);
    // Something writing the live file in place afterwards (Asterisk's UpdateConfig truncates and rewrites) leaves the backup alone.
    writeFileSync(b.file, '[changed]\n');
    assert.equal(readFileSync(backup, 'utf8'), OLD);
    // A second update links the inode of the first update's output.
    const r2 = await b.store.update('extensions.conf', (doc) => doc.addSection('x', { a: '1' }));
    assert.equal(readFileSync(path.join(b.backups, r2.backup!), 'utf8'), '[changed]\n');
    assert.equal(readFileSync(backup, 'utf8'), OLD);
  } finally {
    b.done();
  }
});

test('a file that already has another hard link is backed up by copy (the other link could change it)', async () => {
  const b = bed();
  try {
    const other = path.join(b.root, 'other-link.conf');
    linkSync(b.file, other);
    const before = statSync(b.file);
    const r = await b.store.update('extensions.conf', (doc) => doc.setValue('general', 'static', 'no'));
    const bst = statSync(path.join(b.backups, r.backup!));
    assert.notEqual(bst.ino, before.ino);
    assert.equal(readFileSync(path.join(b.backups, r.backup!), 'utf8'), OLD);
    writeFileSync(other, 'scribbled\n'); // through the other link: the old inode changes, the backup must not
    assert.equal(readFileSync(path.join(b.backups, r.backup!), 'utf8'), OLD);
  } finally {
    b.done();
  }
});

test('backup dir on another filesystem: the backup is a copy (EXDEV fallback)', {
  skip: !existsSync('/dev/shm') || statSync('/dev/shm').dev === statSync(tmpdir()).dev ? 'no second filesystem at /dev/shm' : false,
}, async () => {
  const shm = mkdtempSync('/dev/shm/cfg-fast-backups-');
  const b = bed({ backups: path.join(shm, 'b') });
  try {
    const before = statSync(b.file);
    const r = await b.store.update('extensions.conf', (doc) => doc.setValue('general', 'static', 'no'));
    const backup = path.join(b.backups, r.backup!);
    assert.notEqual(statSync(backup).dev, before.dev);
    assert.equal(readFileSync(backup, 'utf8'), OLD);
    assert.equal(readFileSync(b.file, 'utf8'), OLD.replace('static=yes', 'static=no'));
    // The link itself failing with EXDEV (the device check bypassed) also ends in a copy.
    const src = sourceOf(b.file);
    const made = await makeBackup(b.backups, 'extensions.conf', { ...src, dev: statSync(b.backups).dev }, r.backup!);
    assert.equal(made.linked, false);
    assert.equal(readFileSync(path.join(b.backups, made.name), 'utf8'), readFileSync(b.file, 'utf8'));
  } finally {
    b.done();
    rmSync(shm, { recursive: true, force: true });
  }
});

test('makeBackup copies the bytes read when the file changed since (or vanished), and links otherwise', async () => {
  const b = bed();
  try {
    mkdirSync(b.backups);
    const readBytes = Buffer.from(OLD);
    const src = sourceOf(b.file, readBytes);
    // Changed in place after it was read: a link would hold the new bytes, so the read bytes are copied.
    writeFileSync(b.file, OLD + 'extra=1\n');
    const changed = await makeBackup(b.backups, 'extensions.conf', src, undefined);
    assert.equal(changed.linked, false);
    assert.equal(readFileSync(path.join(b.backups, changed.name), 'utf8'), OLD);
    // Another device: no link attempted.
    const far = await makeBackup(b.backups, 'extensions.conf', { ...sourceOf(b.file), dev: -1 }, changed.name);
    assert.equal(far.linked, false);
    // The file is gone: link fails, copy of the bytes read.
    const gone = await makeBackup(b.backups, 'extensions.conf', { ...src, path: path.join(b.conf, 'missing.conf') }, far.name);
    assert.equal(gone.linked, false);
    assert.equal(readFileSync(path.join(b.backups, gone.name), 'utf8'), OLD);
    // Unchanged: linked, and names stay unique and ordered.
    const linked = await makeBackup(b.backups, 'extensions.conf', sourceOf(b.file), gone.name);
    assert.equal(linked.linked, true);
    assert.equal(statSync(path.join(b.backups, linked.name)).ino, statSync(b.file).ino);
    const names = [changed.name, far.name, gone.name, linked.name];
    assert.equal(new Set(names).size, 4);
    assert.deepEqual(await b.store.listBackups('extensions.conf'), [...names].reverse());
  } finally {
    b.done();
  }
});

function canChattr(dir: string): boolean {
  try {
    execFileSync('chattr', ['+i', dir], { stdio: 'ignore' });
    execFileSync('chattr', ['-i', dir], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

test('a write that fails after the backup was linked removes that link (it is still the live file)', async (t) => {
  const b = bed();
  try {
    if (!canChattr(b.conf)) {
      t.skip('chattr +i not available (needs root on ext2/3/4)');
      return;
    }
    await assert.rejects(
      b.store.update('extensions.conf', (doc) => {
        doc.setValue('general', 'static', 'no');
        // The config directory becomes immutable: the temp file cannot be created, the backup link still can.
        execFileSync('chattr', ['+i', b.conf]);
      }),
      (err: NodeJS.ErrnoException) => err.code === 'EPERM' || err.code === 'EACCES',
    );
    execFileSync('chattr', ['-i', b.conf]);
    assert.equal(readFileSync(b.file, 'utf8'), OLD);
    assert.deepEqual(existsSync(b.backups) ? readdirSync(b.backups) : [], []);
    assert.equal(statSync(b.file).nlink, 1);
    const r = await b.store.update('extensions.conf', (doc) => doc.setValue('general', 'static', 'no'));
    assert.equal(readFileSync(path.join(b.backups, r.backup!), 'utf8'), OLD);
  } finally {
    try {
      execFileSync('chattr', ['-i', b.conf], { stdio: 'ignore' });
    } catch {
      // not set
    }
    b.done();
  }
});

test('writeFileAtomic: a failing beforeRename leaves the target and no temp file', async () => {
  const b = bed();
  try {
    await assert.rejects(
      writeFileAtomic(
        b.file,
        Buffer.from('[new]\n'),
        { mode: 0o640 },
        {
          beforeRename: async () => {
            throw new Error('no backup');
          },
        },
      ),
      /no backup/,
    );
    assert.equal(readFileSync(b.file, 'utf8'), OLD);
    assert.deepEqual(readdirSync(b.conf), ['extensions.conf']);
  } finally {
    b.done();
  }
});

test('retention: pruning after the write never leaves more than `retention` backups to be seen', async () => {
  const b = bed({ retention: 2 });
  try {
    for (let i = 0; i < 6; i++) {
      await b.store.update('extensions.conf', (doc) => doc.setValue('general', 'n', String(i)));
      const listed = await b.store.listBackups('extensions.conf');
      assert.ok(listed.length <= 2, `after write ${i}: ${listed.length}`);
      assert.deepEqual(readdirSync(b.backups).sort(), [...listed].sort());
    }
    const listed = await b.store.listBackups('extensions.conf');
    assert.equal(listed.length, 2);
    assert.match((await b.store.readBackup(listed[0]!)).text, /n=4/);
    assert.match((await b.store.readBackup(listed[1]!)).text, /n=3/);
  } finally {
    b.done();
  }
});

// ---- big files: lazy parse + byte splice give the same bytes as the full path ----

/** ~`lines` lines: contexts with comments, block comments hiding headers, some CRLF and non-ASCII text. */
function bigDialplan(lines: number, opts: { crlfEvery?: number; accent?: string } = {}): string {
  const out: string[] = ['; generated', '[general]', 'static=yes', '', '[globals]', `NAME=${opts.accent ?? 'plain'}`];
  let c = 0;
  while (out.length < lines) {
    const ctx = `ctx-${String(c).padStart(5, '0')}`;
    out.push(`; context ${c} ${opts.accent ?? ''}`, `[${ctx}]`);
    for (let e = 0; e < 8; e++)
      out.push(`exten => ${1000 + e},1,NoOp(${ctx}) ; desk ${e}`, ` same => n,Dial(PJSIP/${1000 + e},20)`, ' same => n,Hangup()');
    if (c % 50 === 7) out.push(';-- retired context, kept for reference', `[old-${ctx}]`, 'exten => 9,1,Hangup()', '--;');
    out.push('');
    c++;
  }
  const eol = (i: number) => (opts.crlfEvery && i % opts.crlfEvery === 0 ? '\r\n' : '\n');
  return out.map((l, i) => l + eol(i)).join('');
}

async function assertSameAsFullPath(text: string, encoding: 'utf8' | 'latin1', edit: (doc: ConfigDocument) => void): Promise<void> {
  const bytes = encodeConfigText(text, encoding);
  const b = bed({ text: bytes });
  try {
    const expected = parseConfig(text, 'extensions.conf');
    edit(expected);
    const want = encodeConfigText(expected.toString(), encoding);
    const r = await b.store.update('extensions.conf', edit);
    const got = readFileSync(b.file);
    assert.ok(got.equals(want), 'bytes on disk differ from the full parse + encode');
    assert.equal(r.text, expected.toString());
    assert.equal(r.etag, etagOf(want));
    assert.ok(readFileSync(path.join(b.backups, r.backup!)).equals(bytes), 'backup holds the old bytes');
  } finally {
    b.done();
  }
}

const middleEdit = (ctx: string) => (doc: ConfigDocument) => {
  const entries = doc.section(ctx)!.entries;
  entries[3] = { key: 'exten', op: '=>', value: '1001,1,NoOp(changed)' };
  entries.splice(7, 1);
  entries.splice(10, 0, { key: 'same', op: '=>', value: 'n,Log(NOTICE,new)' });
  doc.replaceSectionEntries(ctx, entries);
};

test('100k-line file: one-context update writes the same bytes as the full parse would', async () => {
  const text = bigDialplan(100_000);
  assert.ok(text.split('\n').length > 100_000);
  await assertSameAsFullPath(text, 'utf8', middleEdit('ctx-01500'));
});

test('100k-line file with CRLF lines, UTF-8 text and several edits in one update: same bytes', async () => {
  const text = bigDialplan(100_000, { crlfEvery: 7, accent: 'Zoë café 日本' });
  await assertSameAsFullPath(text, 'utf8', (doc) => {
    middleEdit('ctx-00010')(doc);
    doc.setValue('ctx-02000', 'exten', '1007,1,NoOp(é)');
    doc.deleteSection('ctx-01000');
    doc.addSection('new-ctx', [{ key: 'exten', op: '=>', value: 's,1,NoOp(ü)' }]);
    assert.equal(doc.countSections('old-ctx-00007'), 0, 'a header inside a block comment is no section');
  });
});

test('100k-line Latin-1 file and a BOM file: same bytes as the full path', async () => {
  await assertSameAsFullPath(bigDialplan(100_000, { accent: 'Boîte à café' }), 'latin1', middleEdit('ctx-00300'));
  await assertSameAsFullPath(`\uFEFF${bigDialplan(20_000, { accent: 'Zoë' })}`, 'utf8', (doc) => {
    doc.deleteSection('general');
    middleEdit('ctx-00100')(doc);
  });
});

test('an update that materialises the document (sections()) still writes the right bytes', async () => {
  const text = bigDialplan(5_000);
  await assertSameAsFullPath(text, 'utf8', (doc) => {
    const s = doc.sections().find((x) => x.name === 'ctx-00020')!;
    doc.replaceSectionEntries(s.name, [...s.entries].reverse());
  });
});

test('the reused read buffer: files of other sizes, read and written side by side, keep their own bytes', async () => {
  const b = bed();
  try {
    const files: Record<string, string> = {
      'big.conf': bigDialplan(3_000),
      'small.conf': '[s]\nk=v\n',
      'latin.conf': '[l]\nname=Bo\u00eete\n',
    };
    for (const [f, text] of Object.entries(files))
      writeFileSync(path.join(b.conf, f), Buffer.from(text, f === 'latin.conf' ? 'latin1' : 'utf8'));
    for (let round = 0; round < 5; round++) {
      const results = await Promise.all([
        b.store.update('big.conf', (doc) => doc.setValue('ctx-00010', 'exten', `1007,1,NoOp(${round})`)),
        b.store.read('small.conf'),
        b.store.update('small.conf', (doc) => doc.setValue('s', 'k', 'v'.repeat(round * 1000 + 1))),
        b.store.read('big.conf'),
        b.store.update('latin.conf', (doc) => doc.setValue('l', 'n', String(round))),
        b.store.read('latin.conf'),
      ]);
      for (const r of results) assert.ok(r.text.length > 0);
      for (const f of Object.keys(files)) {
        const onDisk = readFileSync(path.join(b.conf, f));
        const r = await b.store.read(f);
        assert.equal(r.etag, etagOf(onDisk), `${f} round ${round}`);
        assert.equal(Buffer.from(r.text, f === 'latin.conf' ? 'latin1' : 'utf8').equals(onDisk), true, `${f} round ${round}`);
      }
      assert.match((await b.store.read('small.conf')).text, new RegExp(`^\\[s\\]\\nk=v{${round * 1000 + 1}}\\n$`));
      assert.match((await b.store.read('big.conf')).text, new RegExp(`NoOp\\(${round}\\)`));
      assert.match((await b.store.read('latin.conf')).text, new RegExp(`\\nn=${round}\\n`));
    }
  } finally {
    b.done();
  }
});
