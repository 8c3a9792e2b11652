// LiveTable's cached list: the JSON text and the same list as UTF-8 bytes in parts (no part one big allocation).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LiveTable } from '../../core/live/table.ts';

test('listBytes is listJson as UTF-8, in parts of at most ~64 KB, rebuilt when the table or the epoch changes', () => {
  const t = new LiveTable<{ id: string; name: string }>();
  assert.equal(Buffer.concat(t.listBytes()).toString('utf8'), '{"list":[]}');
  for (let i = 0; i < 3000; i++) t.set(`k${i}`, { id: `k${i}`, name: `Ünïcödé caller 名前 ${'x'.repeat(i % 50)} ${i}` });
  const parts = t.listBytes();
  assert.ok(parts.length > 3, `${parts.length} parts`);
  assert.ok(
    parts.every((p) => p.length <= 64 * 1024 + 1024),
    'no part much over 64 KB',
  );
  assert.equal(Buffer.concat(parts).toString('utf8'), t.listJson());
  assert.deepEqual(JSON.parse(Buffer.concat(parts).toString('utf8')).list.length, 3000);
  assert.equal(t.listBytes(), parts, 'cached while nothing changed');
  t.delete('k7');
  const after = t.listBytes();
  assert.notEqual(after, parts);
  assert.equal(JSON.parse(Buffer.concat(after).toString('utf8')).list.length, 2999);
  const render = (r: { id: string }) => ({ id: r.id });
  assert.notEqual(t.listBytes(render, 1), t.listBytes(render, 2), 'a new epoch rebuilds');
  assert.equal(Buffer.concat(t.listBytes(render, 2)).toString('utf8'), t.listJson(render, 2));
});
