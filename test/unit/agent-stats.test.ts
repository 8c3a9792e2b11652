// Agent figures (plugins/agents/stats.ts) under a hand-moved clock: calls answered per window, a replayed
// AgentConnect not counted twice, the last call, the logged-in time so far, and the daily reset.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AgentStatsBook } from '../../plugins/agents/stats.ts';
import type { StoredAgent } from '../../plugins/agents/schemas.ts';

const MIN = 60_000;
const START = new Date(2026, 0, 10, 9, 0, 0).getTime();

const agent = (id: string, loggedIn: number): StoredAgent => ({
  id,
  name: `Agent ${id}`,
  status: loggedIn ? 'AGENT_IDLE' : 'AGENT_LOGGEDOFF',
  logged_in_time: loggedIn,
  channel_name: '',
  channel_state: 0,
  channel_state_desc: '',
  caller_id_name: '',
  caller_id_num: '',
  connected_line_name: '',
  connected_line_num: '',
  context: '',
  exten: '',
  priority: '',
  account_code: '',
  language: '',
  unique_id: '',
  linked_id: '',
  tm_update: '',
});

test('calls per window, replays, last call, logged-in time and the daily reset', () => {
  const clock = {
    t: START,
    now() {
      return this.t;
    },
  };
  const book = new AgentStatsBook(clock, () => '00:00');
  const loginS = Math.floor(START / 1000) - 3600; // logged in an hour before the script starts
  assert.equal(book.answered('2001', 'c1'), true);
  clock.t += 10 * MIN;
  assert.equal(book.answered('2001', 'c2'), true);
  assert.equal(book.answered('2001', 'c2'), false, 'a replayed AgentConnect');
  assert.equal(book.answered('2002', 'c3'), true);
  clock.t += 10 * MIN; // 09:20: c1 (09:00) is out of the last 15 minutes
  let a = book.render(agent('2001', loginS));
  assert.deepEqual([a.calls_taken_15m, a.calls_taken_60m, a.calls_taken_since_reset], [1, 2, 2]);
  assert.equal(a.last_call, Math.floor((START + 10 * MIN) / 1000));
  assert.equal(a.logged_in_s, 3600 + 20 * 60);
  const b = book.render(agent('2002', 0));
  assert.deepEqual([b.calls_taken_60m, b.logged_in_s], [1, 0], 'logged off: no logged-in time, calls still shown');
  const none = book.render(agent('2003', loginS));
  assert.deepEqual([none.calls_taken_since_reset, none.last_call], [0, 0]);
  clock.t = new Date(2026, 0, 11, 0, 5).getTime(); // the next day after the reset
  a = book.render(agent('2001', loginS));
  assert.deepEqual([a.calls_taken_15m, a.calls_taken_60m, a.calls_taken_since_reset, a.last_call], [0, 0, 0, 0]);
  assert.equal(book.calls.size, 0);
});
