// How a pool learns whether sharing small jobs pays (src/runtime/threads/split-gains.ts): the ways it takes, turn by
// turn, for jobs whose times the test sets.
import { describe, expect, it } from 'vitest';
import { FIRST_WAIT, LAST_WAIT, MARGIN, SplitGains, TURN, WARM_UP } from '../src/runtime/threads/split-gains.js';

const MADDS = 2 ** 20;

/** A job's time in ms: a number, or one of the turn and the job in it. */
type Ms = number | ((turn: number, job: number) => number);

/**
 * Runs `turns` turns of jobs of `madds` that take `shared` or `alone` ms, and returns the way of each turn: 'S' shared,
 * 'a' alone ('?' if a turn mixed them, which it must not). The first WARM_UP turns of a size share, not counted.
 */
function turns(gains: SplitGains, count: number, shared: Ms, alone: Ms, madds = MADDS): string {
  const at = (v: Ms, turn: number, job: number) => (typeof v === 'number' ? v : v(turn, job));
  let out = '';
  for (let t = 0; t < count; t++) {
    const ways = new Set<boolean>();
    for (let j = 0; j < TURN; j++) {
      const sharing = gains.sharing;
      ways.add(sharing);
      gains.note(madds, sharing ? at(shared, t, j) : at(alone, t, j));
    }
    out += ways.size > 1 ? '?' : ways.has(true) ? 'S' : 'a';
  }
  return out;
}

/** The turns at first, shared and not counted. */
const WARM = 'S'.repeat(WARM_UP);

/** The turns a way runs between looks the other way: FIRST_WAIT doubled after each look that did not pay. */
function waits(looks: number): number[] {
  const out: number[] = [];
  for (let w = 2 * FIRST_WAIT; out.length < looks; w = Math.min(LAST_WAIT, 2 * w)) out.push(w);
  return out;
}

describe('learning whether sharing small jobs pays', () => {
  it('shares at first (turns not counted, then one counted), looks at the caller alone once, and keeps sharing where it is faster, looking again ever more rarely', () => {
    const gains = new SplitGains();
    const want =
      WARM +
      'Sa' +
      waits(6)
        .map((w) => 'S'.repeat(w) + 'a')
        .join('');
    expect(turns(gains, want.length, 1, 1.5)).toBe(want);
    expect(waits(6).at(-1)).toBe(LAST_WAIT);
  });

  it('runs alone where sharing is slower (a helper that stops), looks at sharing ever more rarely, and shares again once a look finds it faster', () => {
    const gains = new SplitGains();
    // The first turns share; the look alone pays, so alone is kept FIRST_WAIT turns, then looks go as above.
    const want =
      WARM +
      'S' +
      'a'.repeat(1 + FIRST_WAIT) +
      waits(5)
        .map((w) => 'S' + 'a'.repeat(w))
        .join('');
    expect(turns(gains, want.length, 5, 1)).toBe(want);
    // The helpers come back: the next look at sharing (at most LAST_WAIT turns away) finds it faster, and it stays.
    const after = turns(gains, LAST_WAIT + 10, 0.5, 1);
    const back = after.indexOf('S');
    expect(back, after).toBeGreaterThanOrEqual(0);
    expect(back).toBeLessThanOrEqual(LAST_WAIT);
    expect(after.slice(back, back + 1 + FIRST_WAIT), after).toBe('S'.repeat(1 + FIRST_WAIT));
  });

  it('takes the other way only when it is faster by more than its margin (leaving sharing takes more), and one slow turn does not turn it round', () => {
    // Alone faster than sharing by less than its margin: sharing stays, looking alone again every FIRST_WAIT turns
    // (where alone is slower, ever more rarely: the first test).
    for (const alone of [0.95, 1.01 * MARGIN[0]]) {
      expect(turns(new SplitGains(), WARM_UP + 2 + 3 * (1 + FIRST_WAIT), 1, alone), `alone ${alone}`).toBe(
        WARM + 'Sa' + ('S'.repeat(FIRST_WAIT) + 'a').repeat(3),
      );
    }
    // Alone faster by more than its margin: alone is taken at its first look.
    expect(turns(new SplitGains(), WARM_UP + 3, 1, 0.99 * MARGIN[0])).toBe(WARM + 'Saa');
    // Back from alone, sharing needs less: faster by its margin, MARGIN[1], is enough at the next look.
    const back = new SplitGains();
    expect(turns(back, WARM_UP + 3, 1, 0.5)).toBe(WARM + 'Saa');
    expect(turns(back, 4, 0.99 * MARGIN[1] * 0.5, 0.5)).toBe('aSSS');
    // One turn of sharing four times as slow (a helper stopped for a while), after many fast ones: it moves the running
    // mean, not past what alone took.
    const gains = new SplitGains();
    const before = turns(gains, 10, 1, 2);
    expect(turns(gains, 6, (t) => (t === 0 ? 4 : 1), 2)).toBe(
      // The turns go on as they would have: the next look comes when its wait runs out.
      turns(new SplitGains(), 16, 1, 2).slice(10),
    );
    expect(before).toBe(turns(new SplitGains(), 10, 1, 2));
  });

  it("leaves out a turn's longest job (a helper stopped once), not two", () => {
    const stalls = (count: number) => (_turn: number, job: number) => (job < count ? 50 : 1);
    expect(turns(new SplitGains(), 20, stalls(1), 1.5)).toBe(turns(new SplitGains(), 20, 1, 1.5));
    expect(turns(new SplitGains(), WARM_UP + 3, stalls(2), 1.5)).toBe(WARM + 'Saa');
  });

  it('starts afresh when the jobs turn twice as large or small (other work)', () => {
    // Small jobs where alone is faster: alone is taken, and a look at sharing that did not pay puts the next one turns
    // away.
    const [other, same] = [new SplitGains(), new SplitGains()];
    for (const gains of [other, same]) expect(turns(gains, WARM_UP + 5, 5, 1)).toBe(WARM + 'SaaaS');
    // Jobs 8 times as large, where sharing is faster: counted from their first turn (alone, as taken), then sharing is
    // looked at, and taken, at once.
    expect(turns(other, 4, 4, 8, 8 * MADDS)).toBe('aSSS');
    // Jobs of the same size getting faster shared: the look comes when its wait runs out.
    expect(turns(same, 5, 0.5, 1)).toBe('aaaaS');
  });

  it('takes one way for every size, judging a turn by its time per multiply-add', () => {
    // A loop whose jobs are of two sizes, one after the other, each taking time in proportion: as jobs of one size.
    const gains = new SplitGains();
    let ways = '';
    for (let t = 0; t < 12; t++) {
      const sharing = new Set<boolean>();
      for (let j = 0; j < TURN; j++) {
        sharing.add(gains.sharing);
        const scale = j % 2 ? 4 : 1;
        gains.note(scale * MADDS, scale * (gains.sharing ? 1 : 1.5));
      }
      ways += sharing.size > 1 ? '?' : sharing.has(true) ? 'S' : 'a';
    }
    expect(ways).toBe(turns(new SplitGains(), 12, 1, 1.5));
  });
});
