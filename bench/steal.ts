// How much of the CPU time this VM's cores wanted the host gave to others ("steal" in Linux's /proc/stat): on a
// shared machine it takes a part of every 2-thread figure that no code of ours can win back, and it comes and goes.
// A meter adds up the intervals it is started and stopped around; an idle core wants nothing and counts nothing.
import { readFileSync } from 'node:fs';

/** Clock ticks of all cores since boot: busy (user, nice, system, irq, softirq) and stolen; undefined off Linux. */
function ticks(): { busy: number; stolen: number } | undefined {
  try {
    const [, user, nice, system, , , irq, softirq, steal] = readFileSync('/proc/stat', 'utf8')
      .split('\n', 1)[0]
      .trim()
      .split(/\s+/)
      .map(Number);
    if (!Number.isFinite(steal)) return undefined;
    return { busy: user + nice + system + irq + softirq, stolen: steal };
  } catch {
    return undefined;
  }
}

export class StealMeter {
  #busy = 0;
  #stolen = 0;
  #from: ReturnType<typeof ticks>;

  start(): void {
    this.#from = ticks();
  }

  stop(): void {
    const to = ticks();
    if (!this.#from || !to) return;
    this.#busy += to.busy - this.#from.busy;
    this.#stolen += to.stolen - this.#from.stolen;
    this.#from = undefined;
  }

  /** stolen ÷ (busy + stolen) over the intervals measured; undefined without /proc/stat or without ticks. */
  get share(): number | undefined {
    const wanted = this.#busy + this.#stolen;
    return wanted > 0 ? this.#stolen / wanted : undefined;
  }

  /** The share as a table cell: "12 %", or "n/a". */
  get cell(): string {
    const s = this.share;
    return s === undefined ? 'n/a' : `${Math.round(100 * s)} %`;
  }

  /** `fn` with the meter running around it. */
  async around<T>(fn: () => Promise<T>): Promise<T> {
    this.start();
    try {
      return await fn();
    } finally {
      this.stop();
    }
  }
}
