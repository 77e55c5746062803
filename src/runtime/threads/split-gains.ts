// Whether sharing small jobs with the helpers pays, learnt by trying both ways. On a busy machine (another program on
// a core, a host that takes this VM's cores away for ms at a time) a helper that spins for the next job takes CPU time
// from the caller, and one that stops while it holds a unit makes the caller wait: a decode step on 2 threads then ran
// at 0.6× its time on 1 (`node --import tsx bench/busy-machine.ts`). Single jobs do not show it (most shared ones are
// still faster than the caller alone would be); runs of them do. So small jobs take turns of TURN jobs shared or
// alone, each turn's time per multiply-add is kept, and the way that costs less is taken, now and then a turn the
// other way to see whether that still holds. One way for every size: a helper stays awake between jobs only when it
// has them all (sharing only some sizes had it woken for each, and looked slower than it is), and a loop's turns hold
// the same mix of sizes; a turn of other sizes starts the learning afresh. (Learning in the pool, not in a benchmark:
// how busy a machine is changes by the minute.)

/**
 * Jobs from this many multiply-adds on (a few ms of work) are always shared: a helper that stops for a while costs them
 * a small part, and a turn alone a lot.
 */
export const LEARNT_BELOW = 2 ** 25;
/** Jobs in a turn. */
export const TURN = 16;
/** Turns that share and are not counted, at first. */
export const WARM_UP = 2;
/** Weight of a turn in the running mean of the way taken: a helper's rare stall moves it, but not at once. */
const WEIGHT = 1 / 8;
/**
 * The other way is taken only when it is faster by more than the noise of a turn: when its cost is under this share
 * of the way taken's ([alone, shared]). Sharing is the way of an idle machine, where a turn alone costs most: leaving
 * it takes more.
 */
export const MARGIN = [0.7, 0.95] as const;
/** Turns the way taken runs before a turn the other way: doubled each time that turn does no better. */
export const FIRST_WAIT = 2;
export const LAST_WAIT = 64;

export class SplitGains {
  /** The way taken (or looked at, while `looking`): shared or alone. */
  #sharing = true;
  #looking = false;
  /**
   * Jobs of the turn in progress so far (below 0: of the first turns, not counted), their time and multiply-adds, and
   * its longest job's.
   */
  #jobs = -WARM_UP * TURN;
  #ms = 0;
  #madds = 0;
  #longest = [0, 0];
  /** The turn's sum of log2(multiply-adds), and the last turn's mean of it: the mix of sizes it held. */
  #sizes = 0;
  #mix = NaN;
  /**
   * ms per multiply-add alone and shared ([alone, shared]; NaN: not tried): the way taken's over its turns (a running
   * mean), the other's in its last turn.
   */
  readonly #cost: [number, number] = [NaN, NaN];
  /** Turns the way taken has left before the next look the other way, and how many it has after the next look. */
  #left = 0;
  #wait = FIRST_WAIT;

  /** Whether a small job is to be shared now; its time is to be noted (`note`) either way. */
  get sharing(): boolean {
    return this.#sharing;
  }

  /** A job of `madds` multiply-adds took `ms`, shared or not as `sharing` said. */
  note(madds: number, ms: number): void {
    // The first turns wait for what a pool's first jobs do (helpers starting, their code compiled, memory touched).
    if (this.#jobs < 0) return void this.#jobs++;
    this.#ms += ms;
    this.#madds += madds;
    this.#sizes += Math.log2(madds);
    if (ms > this.#longest[0]) this.#longest = [ms, madds];
    if (++this.#jobs < TURN) return;
    // A turn's cost without its longest job: one helper stopped once in a turn says little of the next.
    const turn = (this.#ms - this.#longest[0]) / (this.#madds - this.#longest[1]);
    const mix = this.#sizes / TURN;
    [this.#jobs, this.#ms, this.#madds, this.#longest, this.#sizes] = [0, 0, 0, [0, 0], 0];
    const way = Number(this.#sharing);
    const cost = this.#cost;
    // Jobs twice as large or half as large as the last turn's, typically: other work, whose costs per multiply-add
    // are its own. What was learnt goes; this turn counts as the first of the way it took.
    if (Math.abs(mix - this.#mix) > 1) [cost[0], cost[1], this.#looking, this.#wait] = [NaN, NaN, false, FIRST_WAIT];
    this.#mix = mix;
    if (this.#looking) {
      // A look the other way: taken if it did better than the way taken by its margin; else given up, and where it
      // did no better at all, the next look comes later (a close call is looked at again as soon).
      const taken = 1 - way;
      this.#looking = false;
      cost[way] = turn;
      if (turn < MARGIN[way] * cost[taken]) this.#wait = FIRST_WAIT;
      else {
        this.#sharing = !this.#sharing;
        if (turn >= cost[taken]) this.#wait = Math.min(LAST_WAIT, 2 * this.#wait);
      }
      this.#left = this.#wait;
      return;
    }
    cost[way] = Number.isNaN(cost[way]) ? turn : cost[way] + WEIGHT * (turn - cost[way]);
    // The other way is looked at when it was never tried, when it did better by its margin in its last turn than this
    // way does now, or when its turn comes.
    if (!(cost[1 - way] >= MARGIN[1 - way] * cost[way]) || --this.#left <= 0)
      [this.#sharing, this.#looking] = [!this.#sharing, true];
  }
}
