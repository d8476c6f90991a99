import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DurationError, durationToMs, formatDuration, parseGoDurationNs } from '../../src/config/duration.js';

test('Go duration strings parse to nanoseconds', () => {
  const cases: Array<[string, number]> = [
    ['0', 0],
    ['0s', 0],
    ['168h', 168 * 3600e9],
    ['24h', 24 * 3600e9],
    ['1h30m', 5400e9],
    ['500ms', 500e6],
    ['10s', 10e9],
    ['1.5s', 1.5e9],
    ['.5m', 30e9],
    ['1.h', 3600e9],
    ['2h45m30.5s', (2 * 3600 + 45 * 60 + 30.5) * 1e9],
    ['100us', 100e3],
    ['100µs', 100e3],
    ['100μs', 100e3],
    ['42ns', 42],
    ['+5s', 5e9],
    ['-5s', -5e9],
  ];
  for (const [text, ns] of cases) assert.equal(parseGoDurationNs(text), ns, text);
});

test('malformed Go durations are refused with Go-like messages', () => {
  assert.throws(() => parseGoDurationNs(''), DurationError);
  assert.throws(() => parseGoDurationNs('10'), /missing unit in duration "10"/);
  assert.throws(() => parseGoDurationNs('5d'), /unknown unit "d"/);
  assert.throws(() => parseGoDurationNs('h'), /invalid duration/);
  assert.throws(() => parseGoDurationNs('.s'), /invalid duration/);
  assert.throws(() => parseGoDurationNs('1h 30m'), /unknown unit "h "/);
  assert.throws(() => parseGoDurationNs('3000000h'), /invalid duration/);
});

test('durationToMs: strings, and bare numbers as distribution reads them', () => {
  assert.deepEqual(durationToMs('168h', 'never'), { ok: true, ms: 604_800_000 });
  assert.deepEqual(durationToMs('500ms', 'nanoseconds'), { ok: true, ms: 500 });
  assert.deepEqual(durationToMs('250us', 'nanoseconds'), { ok: true, ms: 0.25 });
  // a bare integer in a Go time.Duration field counts nanoseconds
  assert.deepEqual(durationToMs(60_000_000_000, 'nanoseconds'), { ok: true, ms: 60_000 });
  assert.deepEqual(durationToMs(0, 'zero-only'), { ok: true, ms: 0 });
  assert.equal(durationToMs(30, 'zero-only').ok, false);
  assert.equal(durationToMs(10, 'never').ok, false);
  assert.equal(durationToMs(1.5, 'nanoseconds').ok, false);
  assert.equal(durationToMs(-1, 'nanoseconds').ok, false);
  assert.equal(durationToMs('-1s', 'nanoseconds').ok, false);
  assert.equal(durationToMs(true, 'nanoseconds').ok, false);
  const bad = durationToMs('10', 'never');
  assert.ok(!bad.ok && /missing unit/.test(bad.message));
});

test('formatDuration writes compact Go durations that parse back', () => {
  const cases: Array<[number, string]> = [
    [0, '0s'],
    [604_800_000, '168h'],
    [86_400_000, '24h'],
    [5_400_000, '1h30m'],
    [120_000, '2m'],
    [30_000, '30s'],
    [1_500, '1s500ms'],
    [0.25, '250us'],
    [0.000042, '42ns'],
  ];
  for (const [ms, text] of cases) {
    assert.equal(formatDuration(ms), text);
    assert.equal(parseGoDurationNs(text) / 1e6, ms);
  }
});
