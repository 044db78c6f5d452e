// How the emulator's Event Grid delivers (events.ts): its seeded imperfections and its retry pace.
export interface EventSettings {
  /** Seed of the duplicate, late and lost draws. */
  seed: number;
  /** Share of events delivered twice. */
  duplicateRate: number;
  /** Share of events held back 1-3 s, so that a later event of the same job may arrive first. */
  reorderRate: number;
  /** Share of events never delivered. */
  loseRate: number;
  /** Retry delays are Azure's times this (tests shrink them). */
  retryScale: number;
  /** How often job statuses are looked at (ms). */
  tickMs: number;
}

export const DEFAULT_EVENT_SETTINGS: EventSettings = {
  seed: 1,
  duplicateRate: 0.02,
  reorderRate: 0.02,
  loseRate: 0,
  retryScale: 1,
  tickMs: 200,
};
