// loadConfigTree: includes followed like Asterisk does, never outside the config directory.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ConfigError, findTreeSection, loadConfigTree } from '../../config-store/index.ts';

function tempTree(files: Record<string, string>): { root: string; conf: string; done: () => void } {
  const root = mkdtempSync(path.join(tmpdir(), 'cfg-tree-'));
  const conf = path.join(root, 'asterisk');
  mkdirSync(conf);
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(root, name)), { recursive: true });
    writeFileSync(path.join(root, name), text);
  }
  return { root, conf, done: () => rmSync(root, { recursive: true, force: true }) };
}

test('sections are reported with the file that holds them, in load order', async () => {
  const t = tempTree({
    'asterisk/pjsip.conf': '[global]\ntype=global\n#include "pjsip.d/*.conf"\n#tryinclude pjsip_local.conf\n[after]\nx=1\n',
    'asterisk/pjsip.d/20-b.conf': '[6002]\ntype=endpoint\n',
    'asterisk/pjsip.d/10-a.conf': '[6001]\ntype=endpoint\n[6001]\ntype=aor\n',
    'asterisk/pjsip.d/.hidden.conf': '[hidden]\n',
    'asterisk/pjsip.d/notes.txt': '[txt]\n',
  });
  try {
    const tree = await loadConfigTree(t.conf, 'pjsip.conf', { maxDepth: 10 });
    assert.deepEqual(
      tree.sections.map((s) => `${s.file}:${s.name}#${s.index}/${s.treeIndex}`),
      [
        'pjsip.conf:global#0/0',
        'pjsip.d/10-a.conf:6001#0/0',
        'pjsip.d/10-a.conf:6001#1/1',
        'pjsip.d/20-b.conf:6002#0/0',
        'pjsip.conf:after#0/0',
      ],
    );
    assert.deepEqual(
      tree.files.map((f) => [f.file, f.depth, f.includedFrom?.line ?? null]),
      [
        ['pjsip.conf', 1, null],
        ['pjsip.d/10-a.conf', 2, 3],
        ['pjsip.d/20-b.conf', 2, 3],
      ],
    );
    assert.deepEqual(tree.warnings, []); // a missing #tryinclude is fine
    assert.equal(findTreeSection(tree, '6001', 1)?.file, 'pjsip.d/10-a.conf');
    assert.equal(findTreeSection(tree, '6001', 1)?.entries[0]?.value, 'aor');
  } finally {
    t.done();
  }
});

test('an included file continues the current section; a missing #include is a warning', async () => {
  const t = tempTree({
    'asterisk/extensions.conf': '[ctx]\nexten => 1,1,NoOp()\n#include ctx-extra.conf\n#include missing.conf\n#exec /bin/echo\n',
    'asterisk/ctx-extra.conf': 'exten => 2,1,NoOp()\nsame => n,Hangup()\n',
  });
  try {
    const tree = await loadConfigTree(t.conf, 'extensions.conf');
    assert.deepEqual(tree.continuations, [
      {
        file: 'ctx-extra.conf',
        line: 1,
        into: { file: 'extensions.conf', name: 'ctx', index: 0 },
        entries: [
          { key: 'exten', op: '=>', value: '2,1,NoOp()' },
          { key: 'same', op: '=>', value: 'n,Hangup()' },
        ],
      },
    ]);
    assert.equal(tree.warnings.length, 2);
    assert.match(tree.warnings[0]!, /extensions\.conf:4: #include missing\.conf: no such file/);
    assert.match(tree.warnings[1]!, /#exec \/bin\/echo is not run/);
  } finally {
    t.done();
  }
});

test('never follows a path outside the config directory', async () => {
  const t = tempTree({
    'secret.conf': '[stolen]\npassword=x\n',
    'asterisk/main.conf': [
      '[a]',
      '#include ../secret.conf',
      '#include /etc/passwd',
      '#tryinclude "../*.conf"',
      '#include link.conf',
      '#include sub/../../secret.conf',
      '',
    ].join('\n'),
  });
  symlinkSync(path.join(t.root, 'secret.conf'), path.join(t.conf, 'link.conf'));
  try {
    const tree = await loadConfigTree(t.conf, 'main.conf');
    assert.deepEqual(
      tree.files.map((f) => f.file),
      ['main.conf'],
    );
    assert.deepEqual(
      tree.sections.map((s) => s.name),
      ['a'],
    );
    assert.equal(tree.warnings.length, 5, tree.warnings.join('\n'));
    for (const w of tree.warnings) assert.match(w, /outside the config directory/);
    await assert.rejects(loadConfigTree(t.conf, '../secret.conf'), (e: unknown) => e instanceof ConfigError && e.status === 400);
    await assert.rejects(loadConfigTree(t.conf, 'nope.conf'), (e: unknown) => e instanceof ConfigError && e.status === 404);
  } finally {
    t.done();
  }
});

test('include loops and depth beyond maxDepth are cut with a warning', async () => {
  const files: Record<string, string> = {
    'asterisk/loop.conf': '[l]\n#include loop.conf\n',
  };
  for (let i = 1; i <= 12; i++) files[`asterisk/d${i}.conf`] = `[s${i}]\n#include d${i + 1}.conf\n`;
  const t = tempTree(files);
  try {
    const loop = await loadConfigTree(t.conf, 'loop.conf');
    assert.equal(loop.files.length, 1);
    assert.match(loop.warnings[0]!, /includes itself/);
    const deep = await loadConfigTree(t.conf, 'd1.conf', { maxDepth: 10 });
    assert.equal(deep.files.length, 10); // root is level 1, as in Asterisk
    assert.match(deep.warnings[0]!, /d10\.conf:2: #include d11\.conf exceeds the include depth limit/);
  } finally {
    t.done();
  }
});
