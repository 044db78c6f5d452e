// Money and hours as people read them: "$12.34", "$0.0046", "1.5 h". Pure (used by the workflows' messages).

/** US dollars: cents from 10 cents up, four decimals below (a run on the local emulator costs fractions of a cent). */
export function formatUsd(usd: number | null | undefined): string {
  if (usd === null || usd === undefined || !Number.isFinite(usd)) return 'unpriced';
  if (usd >= 0.1) return `$${usd.toFixed(2)}`;
  if (usd === 0) return '$0';
  return `$${usd.toFixed(4)}`;
}

/** Hours with the precision that matters: "7.4 h", "0.35 h", "12 s". */
export function formatHours(hours: number): string {
  if (hours >= 10) return `${hours.toFixed(0)} h`;
  if (hours >= 0.1) return `${Number(hours.toFixed(2))} h`;
  const seconds = hours * 3600;
  return seconds >= 60 ? `${(seconds / 60).toFixed(1)} min` : `${seconds.toFixed(1)} s`;
}
